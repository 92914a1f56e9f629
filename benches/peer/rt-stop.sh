#!/bin/sh
# Stops the Request Tracker server started by benches/peer/rt-setup.sh (by
# the pid in its pid file). The rt5_bench database is kept; rt-setup.sh drops
# it on its next run. Outside CI, like rt-setup.sh.
exec "$(dirname "$0")/rt-setup.sh" stop
