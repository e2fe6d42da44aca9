// Streams tokens into a conversation store until it is killed; reports each appended token on
// stdout. Used to prove what a kill mid-answer can lose.
import { ConversationStore } from "../services/conversations.js";

const store = new ConversationStore({ file: process.argv[2] });
const sampling = {
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  repetitionPenalty: 1,
  maxTokens: 100_000,
  seed: null,
};
const conversation = store.create({ title: "Killed mid-answer", sampling });
store.addMessage(conversation.id, "user", "Tell me a long story");
const answer = store.startAssistant(conversation.id, "model");
let index = 0;
setInterval(() => {
  store.appendToken(answer.id, { index, text: `w${index} `, exitLayer: index % 5 });
  index += 1;
  process.stdout.write(`${index}\n`);
}, 1);
