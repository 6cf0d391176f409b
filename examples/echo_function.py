"""A minimal HTTP function for Sluice: prints each event it gets and answers success.

    python3 examples/echo_function.py            # listens on 127.0.0.1:9000
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            event = body.decode(errors="replace")
        print(json.dumps(event, indent=2), flush=True)
        reply = json.dumps({"batchItemFailures": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
