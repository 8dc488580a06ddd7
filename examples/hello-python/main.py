import json
import os

data = json.loads(os.environ.get("IGNITE_INPUT", "{}"))
print(json.dumps({"hello": "python", "input": data}, sort_keys=True))
