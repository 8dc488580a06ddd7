const input = JSON.parse(process.env.IGNITE_INPUT || "{}");
console.log(JSON.stringify({ hello: "node", input }));
