// examples/data-processor/index.ts without its types, for Node and QuickJS.
const input = JSON.parse(process.env.IGNITE_INPUT || '{"data": [], "operation": "sum"}');

function processData(data, operation) {
  if (data.length === 0) return 0;
  switch (operation) {
    case 'sum': return data.reduce((a, b) => a + b, 0);
    case 'average': return data.reduce((a, b) => a + b, 0) / data.length;
    case 'max': return Math.max(...data);
    case 'min': return Math.min(...data);
    default: throw new Error(`Unknown operation: ${operation}`);
  }
}

const result = processData(input.data, input.operation);
console.log(JSON.stringify({
  result,
  operation: input.operation,
  count: input.data.length,
  timestamp: new Date().toISOString(),
}));
