#!/usr/bin/env perl
# slurm.pl: run a command (or an array of JOB=1:N commands) on a Slurm
# cluster as ONE array job, and wait for it.  Own code with Kaldi's
# command-line contract (a drop-in for run.pl in cmd.sh):
#
#   slurm.pl [options] [JOB=1:N] <log-file> <command> [<args>...]
#
# Options: --mem 4G --gpu N --num-threads N --time H:M:S --max-jobs-run N
# --config conf/slurm.conf, and any other --name value for which the config
# has an "option name=..." line.  The config maps each option to sbatch flags:
#
#   command sbatch --export=PATH --ntasks=1      # the submit command
#   option mem=* --mem-per-cpu $0                 # $0 = the option's value
#   option mem=0                                  # value 0: no flags
#   option gpu=* --gres=gpu:$0
#   option num_threads=* --cpus-per-task $0
#   option time=* --time $0
#   default gpu=0                                 # value when not given
#   option num_nodes=* --nodes $0 --ntasks $0     # espnet2.bin.launch: one task per node
#
# --max-jobs-run M is built in: --array=1-N%M.  Without --config the same
# built-in defaults as above are used.  JOB substitution, quoting, log
# markers and the failure line are those of run.pl.  The job script goes to
# <log-dir>/q/<name>.sh, Slurm's own output to <log-dir>/q/<name>.<task>.out,
# and each task writes its exit code to <log-dir>/q/<name>.done.<task>.
# slurm.pl waits for the markers, asking sacct (when accounting works) or
# squeue for the tasks' states, so a task that Slurm killed (CANCELLED,
# TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, ...) or that vanished without writing
# its exit code is reported as failed, with its log and the reason.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use Time::HiRes qw(time);
use SerJobs qw(set_name fail parse_options parse_job_args cluster_usage
  cluster_options write_job_script submit on_interrupt wait_for_markers report_cluster);

my $me = "slurm.pl";
set_name($me);
my $default_config = <<'EOF';
command sbatch --export=PATH --ntasks=1
option mem=* --mem-per-cpu $0
option mem=0
option gpu=* --gres=gpu:$0
option gpu=0
option num_threads=* --cpus-per-task $0
option num_threads=1 --cpus-per-task 1
option time=* --time $0
option num_nodes=* --nodes $0 --ntasks $0
option num_nodes=1
default gpu=0
EOF
# Slurm states after which a task that wrote no exit code was killed.
my %killed = map { $_ => 1 } qw(CANCELLED TIMEOUT OUT_OF_MEMORY NODE_FAIL PREEMPTED
  BOOT_FAIL DEADLINE REVOKED SPECIAL_EXIT);
my %finished = map { $_ => 1 } (keys %killed, qw(COMPLETED FAILED));
# How long a task may stay without exit-code marker once Slurm says it is
# done (shared file systems can show a new file late).
my $marker_grace = $ENV{SLURM_PL_MARKER_GRACE} // 60;

my ($given, $order) = parse_options(\@ARGV, cluster_usage());
my ($command, $options, $flags, $num_threads) = cluster_options(
  given => $given, order => $order, default_config => $default_config, submitter => "sbatch",
  check_config => sub {
    my ($options, $where) = @_;
    fail("$where: --max-jobs-run is applied by $me itself (--array=1-N%M); "
         . "remove the 'option max_jobs_run' line") if exists $options->{max_jobs_run};
  });
my ($jobname, $njobs, $logtemplate, $cmdtemplate) = parse_job_args(\@ARGV, cluster_usage());

my $job = write_job_script(
  jobname => $jobname, logtemplate => $logtemplate, cmdtemplate => $cmdtemplate,
  num_threads => $num_threads,
  task_expr => '${SLURM_ARRAY_TASK_ID:?not run as a Slurm array task}',
  job_ref => 'Slurm job ${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-?}}');
my ($cwd, $qdir, $base, $marker) = @$job{qw(cwd qdir base marker)};

# --- submit ------------------------------------------------------------------
my $array = "1-$njobs";
$array .= "%$given->{max_jobs_run}" if defined $given->{max_jobs_run};
my $jobid = submit(@$command, @$flags, "--parsable", "--job-name=$base", "--array=$array",
                   "--chdir=$cwd", "--output=$qdir/$base.%a.out", $job->{script});
on_interrupt("scancel $jobid", "cancelled Slurm job $jobid");

# --- wait ------------------------------------------------------------------
# Ask sacct once whether accounting works; fall back to squeue (which keeps
# finished jobs for MinJobAge, 300 s by default) when it does not.
my $use_sacct = system("sacct -n -X -j $jobid -o JobID >/dev/null 2>&1") == 0;

sub task_states {
  my %state;
  my @queries = ("squeue -h -r -t all -j $jobid -o '%i|%T|%r' 2>/dev/null");
  unshift @queries, "sacct -n -X -P -j $jobid -o JobID,State 2>/dev/null" if $use_sacct;
  for my $q (@queries) {
    for my $line (split(/\n/, `$q`)) {
      my ($id, $st, $reason) = split(/\|/, $line);
      next unless defined $st;
      $st =~ s/\s.*//;             # "CANCELLED by 0" -> CANCELLED
      $st =~ s/\+$//;
      if ($id =~ m/^\Q$jobid\E_(\d+)$/) {
        $state{$1} = $st;          # squeue (queried last) wins while it knows
      } elsif ($id eq $jobid && $njobs == 1) {
        $state{1} = $st;
      }
    }
  }
  return \%state;
}

my %gone_since;
my ($code, $reason) = wait_for_markers($njobs, $marker, sub {
  my ($unmarked, $code, $reason) = @_;
  my $state = task_states();
  for my $i (@$unmarked) {
    my $st = $state->{$i};
    if (defined $st && $killed{$st}) {
      ($code->{$i}, $reason->{$i}) = (-1, $st);
    } elsif (!defined $st || $finished{$st}) {
      # Done (or unknown to Slurm) but no marker yet: give the file system
      # some time before calling it lost.
      $gone_since{$i} //= time();
      if (time() - $gone_since{$i} > $marker_grace) {
        ($code->{$i}, $reason->{$i}) = (-1, defined $st
          ? "ended with state $st but wrote no exit code to $marker.$i"
          : "vanished from the queue without writing its exit code (killed by Slurm?)");
      }
    }
  }
});

# Slurm's own message (e.g. "CANCELLED ... DUE TO TIME LIMIT") is in the
# task's .out file; add it to the reason (which report_cluster copies into
# the task's log).
for my $i (grep { $code->{$_} < 0 } keys %$code) {
  if (open(my $fh, "<", "$qdir/$base.$i.out")) {
    while (my $l = <$fh>) {
      if ($l =~ m/\*\*\*\s*(.*?)\s*\*\*\*/) { $reason->{$i} .= " ($1)"; last; }
    }
    close($fh);
  }
}

report_cluster(code => $code, reason => $reason, njobs => $njobs, logtemplate => $logtemplate,
               jobname => $jobname, job => "Slurm job $jobid",
               task_ref => sub { "Slurm job ${jobid}_$_[0]" });
exit 0;
