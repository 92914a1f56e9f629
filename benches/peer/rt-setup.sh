#!/bin/sh
# Peer benchmark setup: Request Tracker 5 (Best Practical RT) on this machine.
#
# NOT part of CI and not run by `cargo bench`: it installs Debian packages,
# writes /etc/request-tracker5/RT_SiteConfig.d/99-opsledger-bench.pm and
# starts a server. Run it by hand, as root, on a Debian 12 (bookworm) host with
# PostgreSQL listening on 127.0.0.1:5432 with trust auth for `postgres`.
#
# What it does, idempotently (every run starts from an empty RT database):
#   1. installs request-tracker5, rt5-db-postgresql and rt5-standalone
#      (RT 5.0.3, REST2 built in) and w3m (recommended by RT for its
#      HTML-to-text conversion) with DEBIAN_FRONTEND=noninteractive;
#      debconf is preseeded so dbconfig-common does not configure a
#      database (we do it ourselves, below). The only downloads are these
#      Debian packages and their dependencies (including an MTA, exim4,
#      which RT depends on; RT is configured not to use it).
#   2. writes the bench site config: PostgreSQL database `rt5_bench`
#      (owner role `rt_bench`) on 127.0.0.1, web root "/" on
#      http://127.0.0.1:$RT_PORT, outgoing mail written to mbox files under
#      /var/lib/request-tracker5 instead of handed to sendmail, and
#      $BcryptCost 4 (see below);
#   3. stops a server started by an earlier run, drops and recreates
#      `rt5_bench` with `rt-setup-database-5 --action init` (schema, ACL,
#      core data: the General queue and the root user exist by default);
#   4. starts Debian's rt-server (Plack, Starlet prefork server,
#      "deployment" environment, RT_WORKERS worker processes, default 10 =
#      Starlet's own default) in the background as www-data, pid file in
#      $RT_RUN/rt-server.pid, log in $RT_RUN/rt-server.log;
#   5. creates a REST2 auth token for root (RT::AuthToken, the mechanism
#      behind "Authorization: token ..."), checks it against
#      GET /REST/2.0/queue/General and prints the base URL and the header.
#
# Why $BcryptCost 4: RT hashes auth tokens (and passwords, so HTTP basic
# auth too) with bcrypt and verifies the hash on EVERY REST2 request. At RT's
# default cost 12 that is ~290 ms of CPU per request on this machine, which
# would measure bcrypt and not ticket handling. A token created at cost 4
# is verified in ~2 ms. Set RT_BCRYPT_COST=12 to measure RT's default.
#
# Stop the server with benches/peer/rt-stop.sh (or `rt-setup.sh stop`).
set -eu

RT_PORT=${RT_PORT:-8091}
RT_WORKERS=${RT_WORKERS:-10}
RT_DB=${RT_DB:-rt5_bench}
RT_DB_USER=${RT_DB_USER:-rt_bench}
RT_BCRYPT_COST=${RT_BCRYPT_COST:-4}
RT_RUN=${RT_RUN:-/var/tmp/opsledger-rt-bench}
PGHOST=127.0.0.1
PGPORT=5432
PGUSER=postgres
export PGHOST PGPORT PGUSER
SITE_CONFIG=/etc/request-tracker5/RT_SiteConfig.d/99-opsledger-bench.pm
RT_LIB=/usr/share/request-tracker5/lib
PIDFILE=$RT_RUN/rt-server.pid

stop() {
    if [ -f "$PIDFILE" ]; then
        pid=$(cat "$PIDFILE")
        if kill -0 "$pid" 2>/dev/null; then
            # Starlet's parent stops its workers on TERM.
            kill -TERM "$pid"
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
                sleep 0.2
                i=$((i + 1))
            done
            if kill -0 "$pid" 2>/dev/null; then
                echo "rt-setup: rt-server $pid did not stop" >&2
                exit 1
            fi
            echo "rt-setup: stopped rt-server (pid $pid)"
        fi
        rm -f "$PIDFILE"
    fi
}

if [ "${1:-}" = stop ]; then
    stop
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "rt-setup: run as root" >&2
    exit 1
fi

# 1. Packages.
installed=$(dpkg-query -W -f '${Status}\n' request-tracker5 rt5-db-postgresql rt5-standalone 2>/dev/null \
    | grep -c '^install ok installed$' || true)
[ -x /usr/bin/w3m ] || installed=0
if [ "$installed" = 3 ]; then
    echo "rt-setup: RT packages already installed"
else
    debconf-set-selections <<'EOF'
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/install-cronjobs boolean false
rt5-db-postgresql rt5-db-postgresql/dbconfig-install boolean false
EOF
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        request-tracker5 rt5-db-postgresql rt5-standalone dbconfig-no-thanks w3m
fi

# 2. Site config (RT reads RT_SiteConfig.d/*.pm in order; this one is last).
cat > "$SITE_CONFIG" <<EOF
# Written by OpsLedger's benches/peer/rt-setup.sh; delete to undo.
Set(\$DatabaseType, 'Pg');
Set(\$DatabaseHost, '$PGHOST');
Set(\$DatabaseRTHost, '$PGHOST');
Set(\$DatabasePort, '$PGPORT');
Set(\$DatabaseName, '$RT_DB');
Set(\$DatabaseUser, '$RT_DB_USER');
Set(\$DatabasePassword, 'rt_bench_pass');
Set(\$DatabaseAdmin, '$PGUSER');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $RT_PORT);
Set(\$WebPath, '');
Set(\$WebBaseURL, 'http://127.0.0.1:$RT_PORT');
Set(\$WebURL, 'http://127.0.0.1:$RT_PORT/');
Set(\$MailCommand, 'mbox');
Set(\$BcryptCost, $RT_BCRYPT_COST);
Set(\$LogToSyslog, 'error');
Set(\$LogToSTDERR, 'warning');
1;
EOF
chmod 0644 "$SITE_CONFIG"
# The server runs as www-data, as under Debian's Apache setup; the package
# leaves the main site config readable by root only when debconf did not
# configure a database.
chgrp www-data /etc/request-tracker5/RT_SiteConfig.pm
chmod 0640 /etc/request-tracker5/RT_SiteConfig.pm

# 3. A fresh database.
stop
mkdir -p "$RT_RUN"
chown www-data:www-data "$RT_RUN"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $RT_DB WITH (FORCE)"
# rt-setup-database creates the role if it is missing and the database.
rt-setup-database-5 --action init --dba "$PGUSER" --dba-password '' \
    > "$RT_RUN/setup-database.log" 2>&1 || {
    cat "$RT_RUN/setup-database.log" >&2
    echo "rt-setup: rt-setup-database-5 failed" >&2
    exit 1
}
# Cached Mason components from an earlier configuration would be stale.
rm -rf /var/cache/request-tracker5/mason_data/obj

# 4. The server.
: > "$RT_RUN/rt-server.log"
chown www-data:www-data "$RT_RUN/rt-server.log"
# The shell writes its own pid and then becomes rt-server (exec), so the pid
# file names Starlet's parent process, which stops its workers on TERM.
runuser -u www-data -- sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$PIDFILE" \
    /usr/share/request-tracker5/libexec/rt-server \
    --host 127.0.0.1 --port "$RT_PORT" --max-workers "$RT_WORKERS" \
    >> "$RT_RUN/rt-server.log" 2>&1 < /dev/null &
i=0
while [ ! -s "$PIDFILE" ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done

# 5. A token for root, made with RT's own API.
TOKEN=$(runuser -u www-data -- perl -I"$RT_LIB" -e '
    use strict; use warnings;
    use RT; RT::LoadConfig(); RT::Init();
    my $user = RT::User->new(RT->SystemUser);
    $user->Load("root") or die "no root user\n";
    my $token = RT::AuthToken->new(RT::CurrentUser->new($user));
    my ($id, $msg, $auth) = $token->Create(Owner => $user->Id, Description => "opsledger bench");
    die "token: $msg\n" unless $id;
    print $auth;
')
BASE="http://127.0.0.1:$RT_PORT"
i=0
until curl -fs -o /dev/null -H "Authorization: token $TOKEN" "$BASE/REST/2.0/queue/General"; do
    i=$((i + 1))
    if [ $i -ge 120 ] || ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        tail -n 30 "$RT_RUN/rt-server.log" >&2
        echo "rt-setup: RT did not answer on $BASE" >&2
        exit 1
    fi
    sleep 0.5
done
echo "$TOKEN" > "$RT_RUN/token"
echo "rt-setup: RT 5 ready at $BASE (Starlet, $RT_WORKERS workers, database $RT_DB, bcrypt cost $RT_BCRYPT_COST)"
echo "base URL:   $BASE"
echo "auth:       Authorization: token $TOKEN"
echo "benchmark:  cargo bench --bench load -- --peer-rt $BASE --peer-auth 'token $TOKEN'"
