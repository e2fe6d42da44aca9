// Every family's chat template as the model ships it, rendered for one conversation (system, user,
// assistant, user, generation prompt) and compared with the prompt transformers renders — written
// out by hand from each template in chat-template.fixtures.json. Also: Qwen3's thinking switch and
// its dropping of earlier reasoning, Gemma 3 folding the system text into the first user turn, and
// what a model without a template gets.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  chatTemplateFor,
  ChatTemplateError,
  FALLBACK_CHAT_TEMPLATE,
  renderChat,
  templateMessages,
  type ChatMessage,
} from "./chat-template.js";

interface Case {
  name: string;
  template: string;
  source: string;
  bos_token: string;
  eos_token: string;
  options: Record<string, unknown>;
  messages?: ChatMessage[];
  expected: string;
}
const fixtures = JSON.parse(
  readFileSync(new URL("./chat-template.fixtures.json", import.meta.url), "utf8"),
) as {
  messages: ChatMessage[];
  templates: Record<string, string>;
  cases: Case[];
};
const { templates, messages } = fixtures;

describe("chat templates of each family render as transformers does", () => {
  it("covers every family", () => {
    expect(Object.keys(templates).sort()).toEqual(
      ["gemma3", "llama2", "llama3", "mistral", "phi3", "phi4mini", "qwen2", "qwen3"].sort(),
    );
  });

  for (const c of fixtures.cases) {
    it(`${c.name} (${c.source})`, () => {
      const out = renderChat(templates[c.template], c.messages ?? messages, {
        bos_token: c.bos_token,
        eos_token: c.eos_token,
        add_generation_prompt: true,
        ...c.options,
      });
      expect(out).toBe(c.expected);
    });
  }

  it("Qwen3 thinks unless told not to: the engine passes no enable_thinking, like transformers' default", () => {
    const think = renderChat(templates.qwen3, messages);
    expect(think.endsWith("<|im_start|>assistant\n")).toBe(true);
    expect(renderChat(templates.qwen3, messages, { enable_thinking: true })).toBe(think);
    // The last assistant turn (after the last user turn) keeps its reasoning.
    const last = renderChat(
      templates.qwen3,
      [...messages, { role: "assistant", content: "<think>\nok\n</think>\n\nFine." }],
      {
        add_generation_prompt: false,
      },
    );
    expect(last.endsWith("<|im_start|>assistant\n<think>\nok\n</think>\n\nFine.<|im_end|>\n")).toBe(true);
  });

  it("Gemma 3 has no system role: the system text opens the first user turn; roles must alternate", () => {
    const out = renderChat(templates.gemma3, messages, { bos_token: "<bos>" });
    expect(out).not.toContain("system");
    expect(out.startsWith("<bos><start_of_turn>user\nYou are helpful.\n\nHi<end_of_turn>\n")).toBe(true);
    expect(renderChat(templates.gemma3, messages.slice(1), { bos_token: "<bos>" })).toBe(
      "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n" +
        "<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n",
    );
    expect(() => renderChat(templates.gemma3, [messages[1], messages[1]])).toThrow(ChatTemplateError);
  });

  it("Phi-3 and Phi-4-mini without the generation prompt end with EOS; Mistral has no generation prompt", () => {
    const opts = { bos_token: "<s>", eos_token: "<|endoftext|>", add_generation_prompt: false };
    expect(renderChat(templates.phi3, messages, opts).endsWith("How are you?<|end|>\n<|endoftext|>")).toBe(
      true,
    );
    expect(renderChat(templates.phi4mini, messages, opts).endsWith("How are you?<|end|><|endoftext|>")).toBe(
      true,
    );
    const mistral = { bos_token: "<s>", eos_token: "</s>" };
    expect(renderChat(templates.mistral, messages, { ...mistral, add_generation_prompt: false })).toBe(
      renderChat(templates.mistral, messages, mistral),
    );
  });

  it("a model without a template gets the plain User:/Assistant: fallback", () => {
    const { template, fallback } = chatTemplateFor({ chatTemplate: undefined });
    expect(fallback).toBe(true);
    expect(renderChat(template, messages)).toBe(
      "You are helpful.\n\nUser: Hi\nAssistant: Hello!\nUser: How are you?\nAssistant:",
    );
    expect(chatTemplateFor({ chatTemplate: templates.phi3 })).toEqual({
      template: templates.phi3,
      fallback: false,
    });
  });
});

describe("tool calls and results in templates", () => {
  const messages: ChatMessage[] = [
    { role: "user", content: "Weather in Ur?" },
    { role: "assistant", content: "", toolCalls: [{ name: "weather", arguments: { city: "Ur" } }] },
    { role: "tool", content: "sunny" },
  ];
  const tools = [{ type: "function", function: { name: "weather", parameters: { type: "object" } } }];

  // The parts of Qwen2.5's template that handle tools (its full text is long): `tools`, each call's
  // `function` as JSON inside <tool_call>, and results as <tool_response>.
  const QWEN25_TOOLS =
    "{%- if tools %}<tools>{% for t in tools %}{{ t.function.name }}{% endfor %}</tools>\n{% endif %}" +
    "{%- for m in messages %}{% if m.tool_calls %}{% for c in m.tool_calls %}" +
    "<tool_call>{{ c.function | tojson }}</tool_call>{% endfor %}" +
    "{% elif m.role == 'tool' %}<tool_response>{{ m.content }}</tool_response>" +
    "{% else %}{{ m.role }}: {{ m.content }}{% endif %}\n{% endfor %}";

  it("a tool-aware template gets the tools, and calls in OpenAI's shape to write in its markup", () => {
    const out = renderChat(QWEN25_TOOLS, templateMessages(messages, false), { tools });
    expect(out).toContain("<tools>weather</tools>");
    expect(out).toMatch(/<tool_call>\{"name": ?"weather", ?"arguments": ?\{"city": ?"Ur"\}\}<\/tool_call>/);
    expect(out).toContain("<tool_response>sunny</tool_response>");
  });

  it("the plain fallback writes a call as JSON and a result as a Tool turn", () => {
    const out = renderChat(FALLBACK_CHAT_TEMPLATE, templateMessages(messages, true));
    expect(out).toContain('Assistant: {"name":"weather","arguments":{"city":"Ur"}}');
    expect(out).toContain("Tool: sunny");
  });
});
