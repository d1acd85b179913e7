#!/usr/bin/env bash
# Start a one-node Slurm cluster (munge + slurmctld + slurmd) and a one-node
# Grid Engine cluster (sge_qmaster + sge_execd) on loopback, so that the tests
# of utils/slurm.pl and utils/queue.pl run against the real schedulers.
#
# Installs nothing (the Debian packages are in .ci/apt_packages.txt); a
# scheduler whose packages are absent is skipped with a message and exit 0.
# Idempotent: what already runs is left alone.  Needs root.  Writes
# /etc/slurm/slurm.conf only when it is absent or was written by this script.
#
# Usage: .ci/start_clusters.sh [slurm|sge|all]     (default: all)
# Exit status: 0 when every requested scheduler whose packages are installed
# is up (or there is none), 1 when one of them could not be started.
set -euo pipefail

what=${1:-all}
case "${what}" in
  slurm|sge|all) ;;
  *) echo "start_clusters.sh: unknown argument '${what}' (use slurm, sge or all)" >&2; exit 1 ;;
esac

host=$(hostname)
rc=0
say() { echo "start_clusters.sh: $*"; }

# True when the queue instance of this host reports a load (its execd talks to
# qmaster) and is not in state u(nknown).
sge_exec_ok() {
  qstat -f 2>/dev/null | awk -v q="all.q@${host}" \
    '$1 == q && $5 ~ /^lx-/ && (NF == 5 || $6 !~ /u/) { ok = 1 } END { exit !ok }'
}

# Wait up to $1 seconds for command "${@:2}" to succeed.
wait_for() {
  local n=$1
  shift
  local i
  for ((i = 0; i < n; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

if [ "$(id -u)" -ne 0 ]; then
  say "must run as root (it starts system daemons); nothing done"
  exit 1
fi

start_slurm() {
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
     || ! command -v munged >/dev/null; then
    say "slurm-wlm/munge not installed: Slurm skipped (apt-get install slurm-wlm munge)"
    return 0
  fi
  # munge: refuses to start with root-owned dirs or without /run/munge.
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null
    fi
  fi
  chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
  chmod 0700 /etc/munge /var/log/munge
  chmod 0400 /etc/munge/munge.key
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running"
  else
    say "starting munged"
    su -s /bin/sh munge -c /usr/sbin/munged
    wait_for 10 sh -c 'munge -n | unmunge' || { say "munged did not start"; return 1; }
  fi

  local conf=/etc/slurm/slurm.conf mem changed=false
  mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  [ "${mem}" -gt 8000 ] && mem=8000
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  if [ -f "${conf}" ] && ! grep -q 'written by .ci/start_clusters.sh' "${conf}"; then
    say "keeping the existing ${conf} (not written by this script)"
  else
    local new
    new=$(cat <<EOF
# written by .ci/start_clusters.sh (espnet_ser tests): one node on loopback
ClusterName=espnetser
SlurmctldHost=${host}(127.0.0.1)
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmUser=root
SlurmdUser=root
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# Kill quickly at a time limit, and keep finished jobs visible to squeue.
KillWait=5
MinJobAge=300
# Without a default, each job would take all memory and jobs would run one by one.
DefMemPerCPU=1000
NodeName=${host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF
)
    if [ ! -f "${conf}" ] || [ "$(cat "${conf}")" != "${new}" ]; then
      say "writing ${conf}"
      printf '%s\n' "${new}" > "${conf}"
      changed=true
    fi
  fi
  if scontrol ping 2>/dev/null | grep -q 'is UP'; then
    say "slurmctld already running"
    if ${changed}; then
      say "scontrol reconfigure (slurm.conf changed)"
      scontrol reconfigure
    fi
  else
    say "starting slurmctld"
    slurmctld
    wait_for 20 sh -c 'scontrol ping | grep -q "is UP"' || { say "slurmctld did not start (see /var/log/slurm/slurmctld.log)"; return 1; }
  fi
  if [ -f /run/slurmd.pid ] && kill -0 "$(cat /run/slurmd.pid)" 2>/dev/null; then
    say "slurmd already running"
  else
    say "starting slurmd"
    slurmd
  fi
  if ! wait_for 30 sh -c "sinfo -h -n '${host}' -o %T | grep -Eq '^(idle|mixed|allocated)'"; then
    # A node left DOWN/DRAINED by an earlier run must be resumed by hand.
    scontrol update NodeName="${host}" State=RESUME >/dev/null 2>&1 || true
    wait_for 15 sh -c "sinfo -h -n '${host}' -o %T | grep -Eq '^(idle|mixed|allocated)'" \
      || { say "Slurm node ${host} is not idle: $(sinfo -h -n "${host}" -o '%T %E')"; return 1; }
  fi
  say "Slurm is up: $(sinfo -h -o '%P %D %T' | tr '\n' ' ')"
}

start_sge() {
  if [ ! -x /usr/sbin/sge_qmaster ] || [ ! -x /usr/sbin/sge_execd ] || ! command -v qsub >/dev/null; then
    say "gridengine-master/exec/client not installed: Grid Engine skipped"
    return 0
  fi
  export SGE_ROOT=${SGE_ROOT:-/var/lib/gridengine} SGE_CELL=${SGE_CELL:-default}
  local common=${SGE_ROOT}/${SGE_CELL}/common
  if [ ! -d "${common}" ]; then
    say "${common} missing (package not configured?): Grid Engine not started"
    return 1
  fi
  # The package leaves act_qmaster empty; the hostname resolves to
  # localhost, which qmaster rejects unless it is an alias of the host.
  if [ "$(cat "${common}/act_qmaster" 2>/dev/null)" != "${host}" ]; then
    say "writing ${common}/act_qmaster"
    echo "${host}" > "${common}/act_qmaster"
  fi
  if ! grep -qs "^${host} localhost\$" "${common}/host_aliases"; then
    say "adding '${host} localhost' to ${common}/host_aliases"
    echo "${host} localhost" >> "${common}/host_aliases"
  fi
  if qstat >/dev/null 2>&1; then
    say "sge_qmaster already running"
  else
    say "starting sge_qmaster"
    /usr/sbin/sge_qmaster
    wait_for 30 qstat || { say "sge_qmaster did not start (see /var/spool/gridengine/qmaster/messages)"; return 1; }
  fi
  qconf -sh 2>/dev/null | grep -qx "${host}" || qconf -ah "${host}" >/dev/null
  qconf -ss 2>/dev/null | grep -qx "${host}" || qconf -as "${host}" >/dev/null
  # Jobs from root are refused while min_uid/min_gid are 1000.
  local tmp
  tmp=$(mktemp -d)
  qconf -sconf global > "${tmp}/global"
  if grep -Eq '^min_(uid|gid) +[1-9]' "${tmp}/global"; then
    say "setting min_uid/min_gid to 0"
    sed -i -E 's/^(min_uid|min_gid)( +).*/\1\20/' "${tmp}/global"
    qconf -Mconf "${tmp}/global" >/dev/null
  fi
  # Schedule at once instead of every 15 s (tests submit many short jobs);
  # job_load_adjustments would make 2 short jobs look like overload.
  qconf -ssconf > "${tmp}/sched"
  if ! grep -Eq '^flush_submit_sec +1$' "${tmp}/sched"; then
    say "scheduler: flush_submit_sec/flush_finish_sec 1, schedule_interval 0:0:2"
    sed -i -E -e 's/^(schedule_interval +).*/\10:0:2/' \
      -e 's/^(flush_submit_sec|flush_finish_sec)( +).*/\1\21/' \
      -e 's/^(job_load_adjustments +).*/\1NONE/' "${tmp}/sched"
    qconf -Msconf "${tmp}/sched" >/dev/null
  fi
  if ! qconf -spl 2>/dev/null | grep -qx smp; then
    say "adding parallel environment smp"
    cat > "${tmp}/smp" <<EOF
pe_name            smp
slots              2
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    \$pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
EOF
    qconf -Ap "${tmp}/smp" >/dev/null
  fi
  if ! qconf -sql 2>/dev/null | grep -qx all.q; then
    say "adding queue all.q (2 slots, /bin/bash)"
    cat > "${tmp}/all.q" <<EOF
qname                 all.q
hostlist              ${host}
seq_no                0
load_thresholds       NONE
suspend_thresholds    NONE
nsuspend              1
suspend_interval      00:05:00
priority              0
min_cpu_interval      00:05:00
processors            UNDEFINED
qtype                 BATCH INTERACTIVE
ckpt_list             NONE
pe_list               smp
rerun                 FALSE
slots                 2
tmpdir                /tmp
shell                 /bin/bash
prolog                NONE
epilog                NONE
shell_start_mode      posix_compliant
starter_method        NONE
suspend_method        NONE
resume_method         NONE
terminate_method      NONE
notify                00:00:60
owner_list            NONE
user_lists            NONE
xuser_lists           NONE
subordinate_list      NONE
complex_values        NONE
projects              NONE
xprojects             NONE
calendar              NONE
initial_state         default
s_rt                  INFINITY
h_rt                  INFINITY
s_cpu                 INFINITY
h_cpu                 INFINITY
s_fsize               INFINITY
h_fsize               INFINITY
s_data                INFINITY
h_data                INFINITY
s_stack               INFINITY
h_stack               INFINITY
s_core                INFINITY
h_core                INFINITY
s_rss                 INFINITY
h_rss                 INFINITY
s_vmem                INFINITY
h_vmem                INFINITY
EOF
    qconf -Aq "${tmp}/all.q" >/dev/null
  fi
  rm -rf "${tmp}"
  # The queue instance is listed even when its execd is dead (state "u",
  # unknown): only a running sge_execd with a known state counts as up.
  if pgrep -x sge_execd >/dev/null && sge_exec_ok; then
    say "sge_execd already running"
  else
    say "starting sge_execd"
    /usr/sbin/sge_execd
    wait_for 40 sge_exec_ok \
      || { say "sge_execd did not report to qmaster within 40 s"; return 1; }
  fi
  # A queue left in error/disabled state by an earlier run would hold jobs.
  qmod -c "all.q@${host}" >/dev/null 2>&1 || true
  qmod -e "all.q@${host}" >/dev/null 2>&1 || true
  say "Grid Engine is up: $(qstat -f | grep "all.q@" | tr -s ' ')"
}

if [ "${what}" != sge ]; then start_slurm || rc=1; fi
if [ "${what}" != slurm ]; then start_sge || rc=1; fi
exit "${rc}"
