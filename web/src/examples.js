// Starter programs for the playground, per runtime. `language` picks the editor's highlighting
// and, for typescript, sends the code as main.ts.
const JS = ['node', 'bun', 'deno', 'quickjs'];

export const EXAMPLES = [
  { id: 'py-hello', title: 'Python: hello', runtimes: ['python'], language: 'python',
    code: 'import sys\n\nprint("Hello from Ignite!")\nprint("Python", sys.version.split()[0])\n' },
  { id: 'py-stream', title: 'Python: streamed output', runtimes: ['python'], language: 'python',
    code: 'import time\n\nfor i in range(5):\n    print(f"tick {i}", flush=True)\n    time.sleep(0.5)\nprint("done")\n' },
  { id: 'py-input', title: 'Python: stdin and input JSON', runtimes: ['python'], language: 'python',
    code: 'import json, os, sys\n\nprint("stdin:", sys.stdin.read().strip())\nprint("input:", json.loads(os.environ.get("IGNITE_INPUT") or "null"))\n' },
  { id: 'py-chart', title: 'Python: matplotlib chart (datascience)', runtimes: ['python'], language: 'python', profile: 'datascience',
    code: 'import matplotlib\nmatplotlib.use("Agg")\nimport matplotlib.pyplot as plt\n\nxs = list(range(10))\nplt.plot(xs, [x * x for x in xs], marker="o")\nplt.title("squares")\nplt.savefig("/out/chart.png")\nprint("saved /out/chart.png")\n' },
  { id: 'js-hello', title: 'JavaScript: hello', runtimes: JS, language: 'javascript',
    code: 'const who = "Ignite";\nconsole.log(`Hello from ${who}!`);\nconsole.log([1, 2, 3].map((x) => x * 2));\n' },
  { id: 'js-stderr', title: 'JavaScript: stdout and stderr', runtimes: JS, language: 'javascript',
    code: 'console.log("to stdout");\nconsole.error("to stderr");\n' },
  { id: 'ts-hello', title: 'TypeScript: hello', runtimes: ['deno', 'bun'], language: 'typescript',
    code: 'interface Greeting {\n  who: string;\n  times: number;\n}\n\nconst g: Greeting = { who: "Ignite", times: 2 };\nfor (let i = 0; i < g.times; i++) console.log(`Hello, ${g.who}!`);\n' },
  { id: 'go-hello', title: 'Go: hello', runtimes: ['go'], language: 'go',
    code: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("Hello from Ignite!")\n}\n' },
];

export function examplesFor(runtime) {
  return EXAMPLES.filter((e) => e.runtimes.includes(runtime));
}

export function defaultLanguage(runtime) {
  if (runtime === 'python') return 'python';
  if (runtime === 'go') return 'go';
  return 'javascript';
}
