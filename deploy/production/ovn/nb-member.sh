#!/usr/bin/env bash
# One member of novanet's clustered OVN Northbound (see deploy/production/README.md).
#   nb-member.sh init   create the database file if missing: the cluster on the member with
#                       NB_CREATES_CLUSTER=yes, a join of the other members' on the others
#   nb-member.sh run    exec ovsdb-server on it: SSL for clients and raft, a local unix socket
# Settings come from the environment (nb-<N>.env; systemd: EnvironmentFile=).
set -euo pipefail
: "${NB_MEMBER:?}" "${NB_RAFT_ADDRESS:?}" "${NB_CLUSTER_ADDRESSES:?}" "${NB_CLIENT_REMOTE:?}" "${NB_DB:?}" "${NB_RUN_DIR:?}"
: "${NB_SSL_KEY:?}" "${NB_SSL_CERT:?}" "${NB_SSL_CA:?}"
schema=${NB_SCHEMA:-/usr/share/ovn/ovn-nb.ovsschema}

case "${1:-}" in
  init)
    mkdir -p "$(dirname "$NB_DB")" "$NB_RUN_DIR"
    [ -e "$NB_DB" ] && exit 0
    if [ "${NB_CREATES_CLUSTER:-no}" = yes ]; then
      ovsdb-tool create-cluster "$NB_DB" "$schema" "$NB_RAFT_ADDRESS"
    else
      others=()
      for address in $NB_CLUSTER_ADDRESSES; do [ "$address" != "$NB_RAFT_ADDRESS" ] && others+=("$address"); done
      ovsdb-tool join-cluster "$NB_DB" OVN_Northbound "$NB_RAFT_ADDRESS" "${others[@]}"
    fi
    ;;
  run)
    # The raft address is in the database file; the key, certificate and CA serve raft and clients alike.
    exec ovsdb-server "$NB_DB" \
      --remote="$NB_CLIENT_REMOTE" --remote="punix:$NB_RUN_DIR/ovnnb_db.sock" \
      --private-key="$NB_SSL_KEY" --certificate="$NB_SSL_CERT" --ca-cert="$NB_SSL_CA" \
      --pidfile="$NB_RUN_DIR/ovnnb_db.pid" --unixctl="$NB_RUN_DIR/ovnnb_db.ctl" \
      --log-file="$NB_RUN_DIR/ovnnb_db.log"
    ;;
  *)
    echo "usage: $0 init|run" >&2
    exit 2
    ;;
esac
