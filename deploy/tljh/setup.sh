#!/usr/bin/env bash
# The Littlest JupyterHub (one server, up to ~100 learners) set up for a marginlab
# workshop. Run as root on the hub's server, after TLJH's own installer, from a clone of
# this repository (its binder/requirements.txt pins what the lessons need):
#
#   sudo bash deploy/tljh/setup.sh 'the-room-password'
#
# Then print the learners' link with `marginlab hub-link https://<this server>` (see
# deploy/README.md). Sizes come from the measured memory per learner (deploy/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
password="${1:?usage: setup.sh ROOM_PASSWORD}"

# The users' environment: the pinned course stack (nbgitpuller included) and marginlab.
/opt/tljh/user/bin/pip install --quiet -r binder/requirements.txt
/opt/tljh/user/bin/pip install --quiet --no-deps .

# A short workshop: any username with the room's shared password. For anything longer
# use a real authenticator (tljh-config's auth.type: GitHub, Google, LTI...).
tljh-config set auth.type dummy
tljh-config set auth.DummyAuthenticator.password "$password"
tljh-config set user_environment.default_app jupyterlab
# A learner's server ~125 MiB plus ~90 MiB per open lesson (~155 MiB for lesson 08):
# 1 GiB holds any sensible number of open lessons and stops a runaway one.
tljh-config set limits.memory 1G
tljh-config set limits.cpu 1
# Stop the servers of learners who have left, after an hour idle (a break is shorter).
tljh-config set services.cull.timeout 3600
tljh-config set services.cull.every 300
tljh-config reload
echo "Hub ready. The learners' link: marginlab hub-link https://$(hostname -f)"
