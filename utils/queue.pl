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
use Cwd qw(getcwd);
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use Time::HiRes qw(sleep time);

my $me = "queue.pl";
my @builtin = qw(mem gpu num_threads max_jobs_run time config);
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

sub usage {
  return "Usage: $me [options] [JOB=1:N] <log-file> <command> [<args>...]\n"
    . "  e.g. $me --mem 4G JOB=1:4 exp/log/feats.JOB.log echo JOB\n"
    . "Options: --mem <size> --gpu <n> --num-threads <n> --time <h:m:s>\n"
    . "  --max-jobs-run <n> --config <file> (see the top of utils/queue.pl)\n";
}

sub fail { print STDERR "$me: $_[0]\n"; exit 1; }

sub known_list { return join(", ", map { my $x = $_; $x =~ s/_/-/g; "--$x" } @_); }

sub check_value {
  my ($name, $value) = @_;
  if ($name eq "num_threads" || $name eq "max_jobs_run") {
    return "--" . ($name =~ s/_/-/gr) . " must be a positive integer, got '$value'"
      unless $value =~ m/^[1-9]\d*$/;
  } elsif ($name eq "gpu") {
    return "--gpu must be a non-negative integer, got '$value'" unless $value =~ m/^\d+$/;
  } elsif ($name eq "mem") {
    return "--mem must look like 4G, 500M or 2000 (MB), got '$value'"
      unless $value =~ m/^\d+(\.\d+)?[KMGTkmgt]?[Bb]?$/;
  } elsif ($name eq "time") {
    return "--time must look like [D-]H:M:S, M:S or minutes, got '$value'"
      unless $value =~ m/^(\d+-)?\d+(:\d+){0,2}$/;
  }
  return undef;
}

sub quote_arg {
  my ($a) = @_;
  return "''" if $a eq "";
  return $a if $a =~ m/^(\||\|\||&&|;|\|&|&|\(|\))$/;
  return $a if $a =~ m/^(\d*|&)(>>?|<)(&(\d+|-))?$/;
  return $a if $a =~ m/^(\d*|&)(>>?|<)[^\s'"`\$\\|&;()<>!#*?\[\]{}~]+$/;
  return $a unless $a =~ m/[\s'"`\$\\|&;()<>!#*?\[\]{}~]/;
  $a =~ s/'/'\\''/g;
  return "'$a'";
}

sub sh_single { my ($s) = @_; $s =~ s/'/'\\''/g; return "'$s'"; }

# Parse a Kaldi-style cluster config: returns (command words, {name => [[value,
# flags]...]}, {name => default}).
sub read_config {
  my ($text, $where) = @_;
  my (@command, %options, %defaults);
  my $n = 0;
  for my $line (split(/\n/, $text)) {
    $n++;
    $line =~ s/#.*//;
    next if $line =~ m/^\s*$/;
    if ($line =~ m/^\s*command\s+(\S.*?)\s*$/) {
      @command = split(/\s+/, $1);
    } elsif ($line =~ m/^\s*option\s+(\w+)=(\S+)\s*(.*?)\s*$/) {
      push @{ $options{$1} }, [$2, $3];
    } elsif ($line =~ m/^\s*default\s+(\w+)=(\S+)\s*$/) {
      $defaults{$1} = $2;
    } else {
      fail("$where:$n: expected 'command ...', 'option name=value flags' or "
           . "'default name=value', got '$line'");
    }
  }
  fail("$where: no 'command qsub ...' line") unless @command;
  return (\@command, \%options, \%defaults);
}

# --- options ---------------------------------------------------------------
my (%given, @order);
while (@ARGV && $ARGV[0] =~ m/^--/) {
  my $arg = shift @ARGV;
  if ($arg eq "--help" || $arg eq "-h") { print usage(); exit 0; }
  my ($name, $value);
  if ($arg =~ m/^--([^=]+)=(.*)$/s) {
    ($name, $value) = ($1, $2);
  } else {
    $name = substr($arg, 2);
    fail("option $arg needs a value") unless @ARGV;
    $value = shift @ARGV;
  }
  $name =~ s/-/_/g;
  fail("option --$name must be a plain name") unless $name =~ m/^\w+$/;
  my $err = check_value($name, $value);
  fail($err) if defined $err;
  push @order, $name unless exists $given{$name};
  $given{$name} = $value;
}
my ($config_text, $config_where) = ($default_config, "$me built-in config");
if (defined $given{config}) {
  my $f = $given{config};
  open(my $fh, "<", $f) or fail("--config $f: cannot read ($!)");
  local $/;
  $config_text = <$fh>;
  close($fh);
  $config_where = $f;
}
my ($command, $options, $defaults) = read_config($config_text, $config_where);
for my $name (@order) {
  next if grep { $_ eq $name } @builtin;
  next if exists $options->{$name};
  fail("unknown option --" . ($name =~ s/_/-/gr) . " (known: "
       . known_list(@builtin, grep { my $n = $_; !grep { $_ eq $n } @builtin } sort keys %$options) . ", or add 'option $name=* <flags>' to $config_where)");
}

# Map each option (given, else default) to flags.
my @flags;
my %value = (%$defaults, %given);
for my $name (sort keys %value) {
  next if $name eq "config";
  next if $name eq "max_jobs_run" && !$options->{$name};  # built in: -tc
  my $v = $value{$name};
  my $lines = $options->{$name};
  if (!$lines) {
    fail("--" . ($name =~ s/_/-/gr) . " $v given but $config_where has no "
         . "'option $name=...' line for it") if exists $given{$name};
    next;  # a default with no mapping: nothing to pass
  }
  my ($exact) = grep { $_->[0] eq $v } @$lines;
  my ($star) = grep { $_->[0] eq "*" } @$lines;
  my $flags;
  if ($exact) { $flags = $exact->[1]; }
  elsif ($star) { ($flags = $star->[1]) =~ s/\$0/$v/g; }
  else { fail("$config_where has no 'option $name=$v' or 'option $name=*' line for --"
              . ($name =~ s/_/-/gr) . " $v"); }
  push @flags, split(/\s+/, $flags) if $flags =~ m/\S/;
}
my $num_threads = $value{num_threads} // 1;

# --- job range, log file, command -----------------------------------------
my ($jobname, $njobs) = (undef, 1);
if (@ARGV && $ARGV[0] =~ m/^([A-Za-z_]\w*)=([\d:\-]*)$/) {
  my ($var, $range) = ($1, $2);
  shift @ARGV;
  if ($range =~ m/^(\d+):(\d+)$/ && $1 == 1 && $2 >= 1) {
    ($jobname, $njobs) = ($var, $2 + 0);
  } else {
    fail("bad job range $var=$range (must be $var=1:N with N>=1)");
  }
}
if (@ARGV < 2) {
  print STDERR "$me: missing " . (@ARGV ? "command" : "log file and command") . "\n" . usage();
  exit 1;
}
my $logtemplate = shift @ARGV;
if (defined $jobname && index($logtemplate, $jobname) < 0) {
  fail("log file $logtemplate must contain $jobname, else the $njobs jobs "
       . "would write one log (e.g. log/x.$jobname.log)");
}
my $cmdtemplate = join(" ", map { quote_arg($_) } @ARGV);

sub subst {
  my ($text, $i) = @_;
  $text =~ s/\Q$jobname\E/$i/g if defined $jobname;
  return $text;
}

# --- job script ------------------------------------------------------------
my $cwd = getcwd();
my $logdir = dirname($logtemplate);
my $qdir = "$logdir/q";
(my $base = basename($logtemplate)) =~ s/\.log$//;
if (defined $jobname) { $base =~ s/\.?\Q$jobname\E//g; $base = "job" if $base eq ""; }
eval { make_path($qdir); 1 } or fail("cannot create $qdir: $@");
my $script = "$qdir/$base.sh";
my $marker = "$qdir/$base.done";
# Markers of an earlier run with the same log name must not count now.
if (opendir(my $dh, $qdir)) {
  unlink(map { "$qdir/$_" } grep { index($_, "$base.done.") == 0 } readdir($dh));
  closedir($dh);
}
my $jn = $jobname // "";
my $task_expr = defined $jobname ? '${SGE_TASK_ID:?not run as a Grid Engine array task}' : "1";
open(my $sh, ">", $script) or fail("cannot write job script $script: $!");
print $sh <<"EOS";
#!/bin/bash
# Written by $me at ${\ scalar localtime}; submitted from $cwd.
cd ${\ sh_single($cwd)} || exit 1
# shellcheck disable=SC1091
[ -f ./path.sh ] && . ./path.sh
# path.sh must not make a failing command skip the exit-code marker below.
set +eu
task=$task_expr
jobname=${\ sh_single($jn)}
cmd=${\ sh_single($cmdtemplate)}
log=${\ sh_single($logtemplate)}
if [ -n "\${jobname}" ]; then
  cmd=\${cmd//"\${jobname}"/\${task}}
  log=\${log//"\${jobname}"/\${task}}
fi
mkdir -p "\$(dirname "\${log}")"
start=\$(date +%s)
{
  printf '# %s\\n' "\${cmd}"
  echo "# Started at \$(date)"
  echo "# Running on \$(hostname), Grid Engine job \${JOB_ID:-?} task \${task}"
} > "\${log}"
bash -o pipefail -c "\${cmd}" >> "\${log}" 2>&1
code=\$?
end=\$(date +%s)
echo "# Accounting: time=\$((end - start)) threads=$num_threads" >> "\${log}"
echo "# Ended (code \${code}) at \$(date)" >> "\${log}"
echo "\${code}" > ${\ sh_single($marker)}".\${task}.tmp"
mv ${\ sh_single($marker)}".\${task}.tmp" ${\ sh_single($marker)}".\${task}"
exit "\${code}"
EOS
close($sh);
chmod(0755, $script);

# --- submit ------------------------------------------------------------------
my @submit = (@$command, @flags, "-terse", "-N", $base, "-t", "1:$njobs");
push @submit, "-tc", $given{max_jobs_run}
  if defined $given{max_jobs_run} && !$options->{max_jobs_run};
push @submit, "-wd", $cwd, "-j", "y", "-o", "$qdir/$base.\$TASK_ID.out", $script;
my $out = `@{[ join(" ", map { sh_single($_) } @submit) ]} 2>&1`;
if ($? != 0 || $out !~ m/^(\d+)/m) {
  $out =~ s/\s+/ /g;
  fail("submission failed: " . join(" ", @submit) . ": $out");
}
my $jobid = $1;

my $cancel = sub {
  system("qdel $jobid >/dev/null 2>&1");
  print STDERR "$me: interrupted; deleted Grid Engine job $jobid\n";
  exit 130;
};
$SIG{INT} = $cancel;
$SIG{TERM} = $cancel;

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

my (%code, %reason, %gone_since);
my $t0 = time();
my $interval = 0.5;
while (scalar(keys %code) < $njobs) {
  sleep($interval);
  # Poll often at first (short jobs, tests), then at most every 10 s.
  $interval = 0.5 + 0.1 * (time() - $t0);
  $interval = 10 if $interval > 10;
  my @unmarked;
  for my $i (grep { !exists $code{$_} } 1 .. $njobs) {
    if (open(my $fh, "<", "$marker.$i")) {
      my $c = <$fh>;
      close($fh);
      if (defined $c && $c =~ m/^(\d+)/) { $code{$i} = $1; next; }
    }
    push @unmarked, $i;
  }
  next unless @unmarked;
  my $queued = queued_tasks();
  my @errored = grep { exists $queued->{$_} && $queued->{$_} =~ m/E/ } @unmarked;
  for my $i (@errored) {
    # An error state holds the task forever: report it, and delete the job.
    ($code{$i}, $reason{$i}) = (-1, "Grid Engine error state $queued->{$i} "
      . "(see: qstat -j $jobid -explain E)");
  }
  system("qdel $jobid >/dev/null 2>&1") if @errored;
  my @left = grep { !exists $queued->{$_} && !exists $code{$_} } @unmarked;
  next unless @left;
  my $acct = accounted_tasks();
  for my $i (@left) {
    my $r = $acct->{$i};
    if ($r && ($r->[0] !~ m/^0\b/ || $r->[1] != 0)) {
      ($code{$i}, $reason{$i}) = (-1, "killed by Grid Engine: failed=$r->[0], "
        . "exit_status=$r->[1]" . ($r->[1] == 137 ? " (SIGKILL: qdel, h_rt or h_vmem)" : ""));
      next;
    }
    # Finished cleanly (or unknown to qacct) but no marker yet: give the
    # file system some time before calling it lost.
    $gone_since{$i} //= time();
    if (time() - $gone_since{$i} > $marker_grace) {
      ($code{$i}, $reason{$i}) = (-1, $r
        ? "left the queue with exit status 0 but wrote no exit code to $marker.$i"
        : "vanished from the queue without writing its exit code (killed by Grid Engine?)");
    }
  }
}

# Copy the reason into the task's log, which would otherwise end without an
# "# Ended" line.
for my $i (grep { $code{$_} < 0 } keys %code) {
  my $log = subst($logtemplate, $i);
  if (open(my $fh, ">>", $log)) {
    print $fh "# $me: task $i of Grid Engine job $jobid failed: $reason{$i}\n";
    close($fh);
  }
}

my @failed = sort { $a <=> $b } grep { $code{$_} != 0 } keys %code;
if (@failed) {
  my $i = $failed[0];
  my $msg = scalar(@failed) . " / $njobs failed, log is in " . subst($logtemplate, $i);
  $msg .= $code{$i} < 0 ? " ($reason{$i}, Grid Engine job $jobid.$i)" : " (exit code $code{$i})";
  if (@failed > 1) {
    (my $all = $logtemplate) =~ s/\Q$jobname\E/*/g;
    $msg .= "; tasks " . join(",", @failed) . ": $all";
  }
  fail($msg);
}
exit 0;
