const data: unknown = JSON.parse(process.env.IGNITE_INPUT ?? "null");
console.log(JSON.stringify({ echo: data, hello: "world" }));
