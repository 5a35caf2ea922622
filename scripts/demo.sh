#!/bin/sh
# The demo's three processes: a Celery worker and the scheduler beside the web
# server. They stop together: on Ctrl-C, on a TERM (make forwards one when it is
# stopped), or when the web server exits. Written for any POSIX sh (Debian's is
# dash, which has no job control in scripts: hence pids, not %1 %2).
set -u

BIN=${BIN:-.venv/bin}
ADDRESS=${PODIUM_DEMO_ADDRESS:-127.0.0.1:8000}
worker=""
beat=""
web=""

alive() {
    for pid in $web $beat $worker; do
        kill -0 "$pid" 2>/dev/null && return 0
    done
    return 1
}

stop() {
    trap - EXIT INT TERM HUP
    for pid in $web $beat $worker; do
        kill -TERM "$pid" 2>/dev/null
    done
    # A worker in its warm shutdown may wait for a task (or ignore a second
    # signal): give them ten seconds, then end whatever is left, pool processes
    # first, so that nothing outlives `make demo`.
    tries=0
    while alive && [ "$tries" -lt 20 ]; do
        sleep 0.5
        tries=$((tries + 1))
    done
    for pid in $web $beat $worker; do
        pkill -KILL -P "$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
    done
    for pid in $web $beat $worker; do
        wait "$pid" 2>/dev/null
    done
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP

"$BIN/celery" -A config worker --queues celery,mail --concurrency 2 --loglevel WARNING &
worker=$!
"$BIN/celery" -A config beat --loglevel WARNING --schedule var/celerybeat-schedule &
beat=$!
"$BIN/python" manage.py runserver "$ADDRESS" --noreload &
web=$!
# Returns when the web server exits, or early when a trapped signal arrives.
wait "$web"
