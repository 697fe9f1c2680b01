#!/usr/bin/env python3
"""A serve-mode trainer for the launcher's tests: for each command line on stdin it prints
`pid=<its pid> lr=<lr>` and then the command's completion; at lr 13 it prints the completion of
another command instead and waits."""
import json, os, sys, time

for line in sys.stdin:
    command = json.loads(line)
    print(f"pid={os.getpid()} lr={command['lr']}", flush=True)
    if command["lr"] == 13:
        print(json.dumps({"autolrs": "done", "id": "another"}), flush=True)
        time.sleep(600)
    print(json.dumps({"autolrs": "done", "id": command["id"]}), flush=True)
