#!/bin/sh
# A credential plugin that answers with the wrong kind.
echo '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "Status", "status": {"token": "x"}}'
