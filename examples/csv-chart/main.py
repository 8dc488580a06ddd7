"""CSV in, chart out: {"csv": "...", "x": "column", "y": "column", "title": "..."} -> /out/chart.png."""
import io
import json
import os

import matplotlib.pyplot as plt
import pandas as pd

DEFAULT_CSV = "month,sales\nJan,12\nFeb,15\nMar,9\nApr,21\n"

request = json.loads(os.environ.get("IGNITE_INPUT") or "{}")
frame = pd.read_csv(io.StringIO(request.get("csv", DEFAULT_CSV)))
x = request.get("x", frame.columns[0])
y = request.get("y", frame.columns[1])

figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
axes.bar(frame[x].astype(str), frame[y])
axes.set_xlabel(x)
axes.set_ylabel(y)
axes.set_title(request.get("title", f"{y} by {x}"))
figure.tight_layout()
figure.savefig("/out/chart.png")

print(json.dumps({"rows": len(frame), "total": float(frame[y].sum()), "max": float(frame[y].max()),
                  "chart": "/out/chart.png"}))
