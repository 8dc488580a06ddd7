// index.ts - Data processing service (the seed walkthrough's example)

interface Input {
  data: number[];
  operation: 'sum' | 'average' | 'max' | 'min';
}

interface Output {
  result: number;
  operation: string;
  count: number;
  timestamp: string;
}

// Parse input from environment
const input: Input = JSON.parse(
  process.env.IGNITE_INPUT || '{"data": [], "operation": "sum"}'
);

// Process data
function processData(data: number[], operation: string): number {
  if (data.length === 0) return 0;

  switch (operation) {
    case 'sum':
      return data.reduce((a, b) => a + b, 0);
    case 'average':
      return data.reduce((a, b) => a + b, 0) / data.length;
    case 'max':
      return Math.max(...data);
    case 'min':
      return Math.min(...data);
    default:
      throw new Error(`Unknown operation: ${operation}`);
  }
}

// Execute
const result = processData(input.data, input.operation);

// Output structured response
const output: Output = {
  result,
  operation: input.operation,
  count: input.data.length,
  timestamp: new Date().toISOString()
};

console.log(JSON.stringify(output));
