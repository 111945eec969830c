"""A Lambda custom runtime in Python's standard library alone, for tests of the layers on a non-Node.js function.

Each event may ask for {"sleepMs": N} (work that long) or {"crash": true} (exit mid-invoke). The response reports
what the function's own environment offers: where `node` is on its PATH (None: nowhere) and that PATH.
"""

import json
import os
import shutil
import time
import urllib.request

BASE = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]

while True:
    with urllib.request.urlopen(BASE + "/invocation/next") as answer:
        request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(answer.read() or b"{}")
    if event.get("crash"):
        os._exit(3)
    time.sleep(event.get("sleepMs", 0) / 1000)
    body = json.dumps({"runtime": "python", "node": shutil.which("node"), "path": os.environ.get("PATH")})
    request = urllib.request.Request(
        BASE + "/invocation/" + request_id + "/response", data=body.encode(), method="POST"
    )
    urllib.request.urlopen(request).read()
