// `npm run reliability`: the long reliability run (hostile files, kills, soak). A placeholder until
// those suites land; it says so rather than pretending to pass anything.
console.log(
  "reliability: no long-running suites yet (hostile-file fuzzing, kill tests and the soak are still to come).",
);
console.log("The quick versions run in `npm test`.");
