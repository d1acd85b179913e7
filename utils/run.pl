#!/usr/bin/env perl
# run.pl: run a command (or an array of JOB=1:N commands) on this machine,
# each with its own log file.  Own code with Kaldi's command-line contract,
# so the same cmd.sh line can say run.pl, slurm.pl or queue.pl.
#
#   run.pl [options] [JOB=1:N] <log-file> <command> [<args>...]
#
# Every occurrence of the variable name (JOB, or e.g. TASK in TASK=1:4) in the
# log file name and in the command is replaced by the job index 1..N.
# Arguments are joined with spaces; an argument that contains spaces or shell
# metacharacters is single-quoted, so it arrives unchanged, while a bare
# operator argument ('|', '>', '2>&1', '&&', ';', '>file') keeps its shell
# meaning (Kaldi's contract: run.pl log a \| b pipes).  The command runs under
# "bash -o pipefail -c", so a failure anywhere in a pipe fails the job.
#
# Each log holds: "# <command>", "# Started at <date>", the job's stdout and
# stderr, "# Accounting: time=<seconds> threads=<n>", "# Ended (code <n>) at
# <date>".  If any job fails: "run.pl: K / N failed, log is in <first failing
# log>" on stderr, exit status 1.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use POSIX ();
use FindBin;
use lib "$FindBin::RealBin/lib";
use SerJobs qw(set_name fail subst parse_options parse_job_args @BUILTIN);

my $me = "run.pl";
set_name($me);

sub usage {
  return "Usage: $me [options] [JOB=1:N] <log-file> <command> [<args>...]\n"
    . "  e.g. $me JOB=1:4 exp/log/feats.JOB.log echo JOB\n"
    . "Options (accepted by run.pl, queue.pl and slurm.pl; run.pl uses only the last two):\n"
    . "  --mem <size>          memory per job, e.g. 4G (cluster only)\n"
    . "  --gpu <n>             GPUs per job (cluster only)\n"
    . "  --time <h:m:s>        time limit per job (cluster only)\n"
    . "  --config <file>       cluster config file (cluster only)\n"
    . "  --num-threads <n>     threads per job (recorded in the log)\n"
    . "  --max-jobs-run <n>    jobs at once (default: number of CPUs)\n";
}

# --- options ---------------------------------------------------------------
my ($given) = parse_options(\@ARGV, usage(), \@BUILTIN);
my %opt = (num_threads => 1, %$given);
if (defined $opt{config} && !-f $opt{config}) {
  fail("--config $opt{config}: no such file");
}

# --- job range, log file, command -----------------------------------------
my ($jobname, $njobs, $logtemplate, $cmdtemplate) = parse_job_args(\@ARGV, usage());

my $max = $opt{max_jobs_run};
if (!defined $max) {
  # As many jobs at once as CPUs, like Kaldi.  GNU nproc prints OMP_NUM_THREADS
  # when that is set (clusters and our own jobs set it to 1): count the CPUs
  # without it, or every array would run one job at a time.
  my $ncpu = `env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null`;
  $max = ($ncpu =~ m/^(\d+)/ && $1 > 0) ? $1 : 1;
}

# Child: write the header, run the command with its output in the log, write
# the footer, exit with the command's code.
sub run_one {
  my ($i) = @_;
  my $log = subst($logtemplate, $jobname, $i);
  my $cmd = subst($cmdtemplate, $jobname, $i);
  my $dir = dirname($log);
  eval { make_path($dir) unless -d $dir; 1 } or do {
    print STDERR "$me: cannot create log directory $dir: $@";
    POSIX::_exit(1);
  };
  my $fh;
  unless (open($fh, ">", $log)) {
    print STDERR "$me: cannot write log file $log: $!\n";
    POSIX::_exit(1);
  }
  my $start = time();
  print $fh "# $cmd\n# Started at " . localtime($start) . "\n";
  close($fh);
  my $pid = fork();
  if (!defined $pid) { print STDERR "$me: fork failed: $!\n"; POSIX::_exit(1); }
  if ($pid == 0) {
    open(STDOUT, ">>", $log) or POSIX::_exit(127);
    open(STDERR, ">&", \*STDOUT) or POSIX::_exit(127);
    exec("bash", "-o", "pipefail", "-c", $cmd) or POSIX::_exit(127);
  }
  waitpid($pid, 0);
  my $status = $?;
  my $code = ($status & 127) ? 128 + ($status & 127) : ($status >> 8);
  my $end = time();
  open($fh, ">>", $log) or POSIX::_exit($code ? $code : 1);
  print $fh "# Accounting: time=" . ($end - $start) . " threads=$opt{num_threads}\n";
  print $fh "# Ended (code $code) at " . localtime($end) . "\n";
  close($fh);
  POSIX::_exit($code > 255 ? 255 : $code);
}

my (%running, @code);
my $next = 1;
while ($next <= $njobs || %running) {
  while ($next <= $njobs && scalar(keys %running) < $max) {
    my $pid = fork();
    fail("fork failed: $!") unless defined $pid;
    run_one($next) if $pid == 0;
    $running{$pid} = $next++;
  }
  my $pid = wait();
  last if $pid < 0;
  next unless exists $running{$pid};
  my $i = delete $running{$pid};
  $code[$i] = ($? & 127) ? 128 + ($? & 127) : ($? >> 8);
}

my @failed = grep { !defined $code[$_] || $code[$_] != 0 } 1 .. $njobs;
if (@failed) {
  my $first = subst($logtemplate, $jobname, $failed[0]);
  my $msg = scalar(@failed) . " / $njobs failed, log is in $first";
  if (@failed > 1) {
    (my $all = $logtemplate) =~ s/\Q$jobname\E/*/g;
    $msg .= " (jobs " . join(",", @failed) . ": $all)";
  }
  fail($msg);
}
exit 0;
