# examples/data-processor/index.ts in Python, for the per-runtime benchmark.
import json
import os
from datetime import datetime, timezone

inp = json.loads(os.environ.get("IGNITE_INPUT") or '{"data": [], "operation": "sum"}')
data, op = inp["data"], inp["operation"]
if not data:
    result = 0
elif op == "sum":
    result = sum(data)
elif op == "average":
    result = sum(data) / len(data)
elif op == "max":
    result = max(data)
elif op == "min":
    result = min(data)
else:
    raise ValueError(f"Unknown operation: {op}")
stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
print(json.dumps({"result": result, "operation": op, "count": len(data), "timestamp": stamp},
                 separators=(",", ":")))
