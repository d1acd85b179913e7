#!/usr/bin/env perl
# queue.pl: run a command (or an array of JOB=1:N commands) on a Grid Engine
# cluster (SGE, Son of Grid Engine, UGE) as ONE array job, and wait for it.
# Own code with Kaldi's command-line contract (a drop-in for run.pl):
#
#   queue.pl [options] [JOB=1:N] <log-file> <command> [<args>...]
#
# Options: --mem 4G --gpu N --num-threads N --time H:M:S --max-jobs-run N
# --config conf/queue.conf, and any other --name value for which the config
# has an "option name=..." line.  The config maps each option to qsub flags:
#
#   command qsub -v PATH -cwd -S /bin/bash -j y -l arch=*64*
#   option mem=* -l mem_free=$0,ram_free=$0       # $0 = the option's value
#   option mem=0                                  # value 0: no flags
#   option gpu=* -l gpu=$0 -q g.q
#   option gpu=0
#   option num_threads=* -pe smp $0
#   option num_threads=1
#   option max_jobs_run=* -tc $0
#   option time=* -l h_rt=$0
#   default gpu=0                                 # value when not given
#
# Without --config these built-in defaults are used; without a max_jobs_run
# line, --max-jobs-run M becomes "-tc M".  JOB substitution, quoting, log
# markers and the failure line are those of run.pl.  The job script goes to
# <log-dir>/q/<name>.sh, Grid Engine's own output to
# <log-dir>/q/<name>.<task>.out, and each task writes its exit code to
# <log-dir>/q/<name>.done.<task>.  queue.pl waits for the markers, asking
# qstat for the tasks' states and qacct for tasks that left the queue, so a
# task killed by Grid Engine (qdel, h_rt, h_vmem) or left in an error state
# (Eqw) is reported as failed, with its log and the reason.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use Time::HiRes qw(time);
use SerJobs qw(set_name subst parse_options parse_job_args cluster_usage
  cluster_options write_job_script submit on_interrupt wait_for_markers report_cluster);

my $me = "queue.pl";
set_name($me);
my $default_config = <<'EOF';
command qsub -v PATH -cwd -S /bin/bash -j y -l arch=*64*
option mem=* -l mem_free=$0,ram_free=$0
option mem=0
option gpu=* -l gpu=$0 -q g.q
option gpu=0
option num_threads=* -pe smp $0
option num_threads=1
option max_jobs_run=* -tc $0
option time=* -l h_rt=$0
default gpu=0
EOF
# How long a task may stay without exit-code marker once it left the queue
# (shared file systems can show a new file late).
my $marker_grace = $ENV{QUEUE_PL_MARKER_GRACE} // 60;

my ($given, $order) = parse_options(\@ARGV, cluster_usage());
my ($command, $options, $flags, $num_threads) = cluster_options(
  given => $given, order => $order, default_config => $default_config, submitter => "qsub");
my ($jobname, $njobs, $logtemplate, $cmdtemplate) = parse_job_args(\@ARGV, cluster_usage());

my $job = write_job_script(
  jobname => $jobname, logtemplate => $logtemplate, cmdtemplate => $cmdtemplate,
  num_threads => $num_threads,
  task_expr => '${SGE_TASK_ID:?not run as a Grid Engine array task}',
  job_ref => 'Grid Engine job ${JOB_ID:-?}');
my ($cwd, $qdir, $base, $marker) = @$job{qw(cwd qdir base marker)};

# --- submit ------------------------------------------------------------------
my @submit = (@$command, @$flags, "-terse", "-N", $base, "-t", "1:$njobs");
push @submit, "-tc", $given->{max_jobs_run}
  if defined $given->{max_jobs_run} && !$options->{max_jobs_run};
push @submit, "-wd", $cwd, "-j", "y", "-o", "$qdir/$base.\$TASK_ID.out", $job->{script};
my $jobid = submit(@submit);
on_interrupt("qdel $jobid", "deleted Grid Engine job $jobid");

# --- wait ------------------------------------------------------------------
# Tasks of our job that qstat lists, with their state (qw, r, t, Eqw, dr ...).
sub queued_tasks {
  my %state;
  for my $line (split(/\n/, `qstat -u '*' 2>/dev/null`)) {
    my @f = split(' ', $line);
    next unless @f >= 5 && $f[0] eq $jobid;
    my @ids;
    for my $part (split(/,/, $f[-1])) {
      if ($part =~ m/^(\d+)-(\d+):(\d+)$/) {
        for (my $t = $1; $t <= $2; $t += $3) { push @ids, $t; }
      } elsif ($part =~ m/^\d+$/) {
        push @ids, $part;
      }
    }
    @ids = (1) if !@ids && $njobs == 1;
    $state{$_} = $f[4] for @ids;
  }
  return \%state;
}

# qacct records of our job's finished tasks: task => [failed, exit_status].
sub accounted_tasks {
  my (%rec, $task, $failed);
  for my $line (split(/\n/, `qacct -j $jobid 2>/dev/null`)) {
    if ($line =~ m/^taskid\s+(\S+)/) { $task = $1 eq "undefined" ? 1 : $1; }
    elsif ($line =~ m/^failed\s+(.*?)\s*$/) { $failed = $1; }
    elsif ($line =~ m/^exit_status\s+(\d+)/ && defined $task) {
      $rec{$task} = [$failed // "0", $1];
    }
  }
  return \%rec;
}

my %gone_since;
my ($code, $reason) = wait_for_markers($njobs, $marker, sub {
  my ($unmarked, $code, $reason) = @_;
  my $queued = queued_tasks();
  my @errored = grep { exists $queued->{$_} && $queued->{$_} =~ m/E/ } @$unmarked;
  for my $i (@errored) {
    # An error state holds the task forever: report it, and delete the job.
    ($code->{$i}, $reason->{$i}) = (-1, "Grid Engine error state $queued->{$i} "
      . "(see: qstat -j $jobid -explain E)");
  }
  system("qdel $jobid >/dev/null 2>&1") if @errored;
  my @left = grep { !exists $queued->{$_} && !exists $code->{$_} } @$unmarked;
  return unless @left;
  my $acct = accounted_tasks();
  for my $i (@left) {
    my $r = $acct->{$i};
    if ($r && ($r->[0] !~ m/^0\b/ || $r->[1] != 0)) {
      ($code->{$i}, $reason->{$i}) = (-1, "killed by Grid Engine: failed=$r->[0], "
        . "exit_status=$r->[1]" . ($r->[1] == 137 ? " (SIGKILL: qdel, h_rt or h_vmem)" : ""));
      next;
    }
    # Finished cleanly (or unknown to qacct) but no marker yet: give the
    # file system some time before calling it lost.
    $gone_since{$i} //= time();
    if (time() - $gone_since{$i} > $marker_grace) {
      ($code->{$i}, $reason->{$i}) = (-1, $r
        ? "left the queue with exit status 0 but wrote no exit code to $marker.$i"
        : "vanished from the queue without writing its exit code (killed by Grid Engine?)");
    }
  }
});

report_cluster(code => $code, reason => $reason, njobs => $njobs, logtemplate => $logtemplate,
               jobname => $jobname, job => "Grid Engine job $jobid",
               task_ref => sub { "Grid Engine job $jobid.$_[0]" });
exit 0;
