import _ from "lodash";

const input = JSON.parse(process.env.IGNITE_INPUT ?? '{"data":[1,2,3]}');
console.log(JSON.stringify({ sum: _.sum(input.data), chunks: _.chunk(input.data, 2) }));
