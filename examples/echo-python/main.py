import json
import os

data = json.loads(os.environ.get("IGNITE_INPUT", "null"))
print(json.dumps({"echo": data, "hello": "world"}, separators=(",", ":"), ensure_ascii=False))
