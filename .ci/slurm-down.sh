#!/usr/bin/env bash
# Stops exactly what slurm-up.sh started, by PID.
set -u
for pf in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
  if [ -s "$pf" ]; then
    pid=$(cat "$pf")
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $pf ($pid)"
  fi
done
