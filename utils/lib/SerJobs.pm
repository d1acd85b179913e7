# SerJobs.pm: what utils/run.pl, utils/queue.pl and utils/slurm.pl share
# (Kaldi's command-line contract): option and config parsing, the job range,
# log file and command, argument quoting, JOB substitution, and for the two
# cluster scripts the job script, the submission, the wait for the tasks'
# exit-code markers and the failure report.  The scripts load it with
#   use FindBin; use lib "$FindBin::RealBin/lib";
# so it is found through the egs/<corpus>/<recipe>/utils links too.
package SerJobs;

use strict;
use warnings;
use Cwd qw(getcwd);
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use Time::HiRes ();
use Exporter qw(import);

our @EXPORT_OK = qw(set_name fail known_list check_value quote_arg sh_single subst
  parse_options parse_job_args cluster_usage cluster_options write_job_script
  submit on_interrupt wait_for_markers report_cluster @BUILTIN);

# Options every script accepts (run.pl uses only num_threads and max_jobs_run).
our @BUILTIN = qw(mem gpu num_threads max_jobs_run time config);

# The script's name, the prefix of its messages ("run.pl: ...").
our $ME = "run.pl";
sub set_name { $ME = $_[0]; }

sub fail { print STDERR "$ME: $_[0]\n"; exit 1; }

sub known_list { return join(", ", map { my $x = $_; $x =~ s/_/-/g; "--$x" } @_); }

# Check an option value; return an error text or undef.
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

# Quote one argument for bash, leaving plain words and operators bare.
sub quote_arg {
  my ($a) = @_;
  return "''" if $a eq "";
  return $a if $a =~ m/^(\||\|\||&&|;|\|&|&|\(|\))$/;              # operators
  return $a if $a =~ m/^(\d*|&)(>>?|<)(&(\d+|-))?$/;               # >, 2>>, 2>&1
  return $a if $a =~ m/^(\d*|&)(>>?|<)[^\s'"`\$\\|&;()<>!#*?\[\]{}~]+$/;  # >file
  return $a unless $a =~ m/[\s'"`\$\\|&;()<>!#*?\[\]{}~]/;          # plain word
  $a =~ s/'/'\\''/g;
  return "'$a'";
}

sub sh_single { my ($s) = @_; $s =~ s/'/'\\''/g; return "'$s'"; }

# Replace the job variable (e.g. JOB) by the job index.
sub subst {
  my ($text, $jobname, $i) = @_;
  $text =~ s/\Q$jobname\E/$i/g if defined $jobname;
  return $text;
}

# Take the leading --name value / --name=value options off @$args.  With
# $known (run.pl), a name not in it is an error; without (the cluster
# scripts), any plain name is taken and checked against the config later.
# Returns ({name => value}, [names in the order first given]).
sub parse_options {
  my ($args, $usage, $known) = @_;
  my (%given, @order);
  while (@$args && $args->[0] =~ m/^--/) {
    my $arg = shift @$args;
    if ($arg eq "--help" || $arg eq "-h") { print $usage; exit 0; }
    my ($name, $value);
    if ($arg =~ m/^--([^=]+)=(.*)$/s) {
      ($name, $value) = ($1, $2);
    } else {
      $name = substr($arg, 2);
      fail("option $arg needs a value") unless @$args;
      $value = shift @$args;
    }
    $name =~ s/-/_/g;
    if ($known) {
      fail("unknown option $arg (known: " . known_list(@$known) . ")")
        unless grep { $_ eq $name } @$known;
    } else {
      fail("option --$name must be a plain name") unless $name =~ m/^\w+$/;
    }
    my $err = check_value($name, $value);
    fail($err) if defined $err;
    push @order, $name unless exists $given{$name};
    $given{$name} = $value;
  }
  return (\%given, \@order);
}

# Take [VAR=1:N] <log-file> <command> [<args>...] off @$args.  Returns (job
# variable or undef, N, log file template, command template).
sub parse_job_args {
  my ($args, $usage) = @_;
  my ($jobname, $njobs) = (undef, 1);
  if (@$args && $args->[0] =~ m/^([A-Za-z_]\w*)=([\d:\-]*)$/) {
    my ($var, $range) = ($1, $2);
    shift @$args;
    if ($range =~ m/^(\d+):(\d+)$/ && $1 == 1 && $2 >= 1) {
      ($jobname, $njobs) = ($var, $2 + 0);
    } else {
      fail("bad job range $var=$range (must be $var=1:N with N>=1)");
    }
  }
  if (@$args < 2) {
    print STDERR "$ME: missing " . (@$args ? "command" : "log file and command") . "\n" . $usage;
    exit 1;
  }
  my $logtemplate = shift @$args;
  if (defined $jobname && index($logtemplate, $jobname) < 0) {
    fail("log file $logtemplate must contain $jobname, else the $njobs jobs "
         . "would write one log (e.g. log/x.$jobname.log)");
  }
  my $cmdtemplate = join(" ", map { quote_arg($_) } @$args);
  return ($jobname, $njobs, $logtemplate, $cmdtemplate);
}

sub cluster_usage {
  return "Usage: $ME [options] [JOB=1:N] <log-file> <command> [<args>...]\n"
    . "  e.g. $ME --mem 4G JOB=1:4 exp/log/feats.JOB.log echo JOB\n"
    . "Options: --mem <size> --gpu <n> --num-threads <n> --time <h:m:s>\n"
    . "  --max-jobs-run <n> --config <file> (see the top of utils/$ME)\n";
}

# Parse a Kaldi-style cluster config: returns (command words, {name => [[value,
# flags]...]}, {name => default}).
sub read_config {
  my ($text, $where, $submitter) = @_;
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
  fail("$where: no 'command $submitter ...' line") unless @command;
  return (\@command, \%options, \%defaults);
}

# Read the config (--config, else default_config) and map each option (given,
# else the config's default) to submit flags.  check_config, when given, is
# called with (options, where) after the config is read.  Returns (command
# words, {name => [[value, flags]...]}, [flags], threads per job).
sub cluster_options {
  my (%p) = @_;
  my ($given, $order) = @p{qw(given order)};
  my ($config_text, $config_where) = ($p{default_config}, "$ME built-in config");
  if (defined $given->{config}) {
    my $f = $given->{config};
    open(my $fh, "<", $f) or fail("--config $f: cannot read ($!)");
    local $/;
    $config_text = <$fh>;
    close($fh);
    $config_where = $f;
  }
  my ($command, $options, $defaults) = read_config($config_text, $config_where,
                                                   $p{submitter});
  $p{check_config}->($options, $config_where) if $p{check_config};
  for my $name (@$order) {
    next if grep { $_ eq $name } @BUILTIN;
    next if exists $options->{$name};
    fail("unknown option --" . ($name =~ s/_/-/gr) . " (known: "
         . known_list(@BUILTIN, grep { my $n = $_; !grep { $_ eq $n } @BUILTIN } sort keys %$options) . ", or add 'option $name=* <flags>' to $config_where)");
  }

  my @flags;
  my %value = (%$defaults, %$given);
  for my $name (sort keys %value) {
    next if $name eq "config";
    next if $name eq "max_jobs_run" && !$options->{$name};  # built in
    my $v = $value{$name};
    my $lines = $options->{$name};
    if (!$lines) {
      fail("--" . ($name =~ s/_/-/gr) . " $v given but $config_where has no "
           . "'option $name=...' line for it") if exists $given->{$name};
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
  return ($command, $options, \@flags, $value{num_threads} // 1);
}

# Write <log-dir>/q/<name>.sh, the script every array task runs.  task_expr:
# the shell expression of the task index; job_ref: how the "# Running on"
# line names the job (shell text).  Returns {cwd, qdir, base, script, marker}.
sub write_job_script {
  my (%p) = @_;
  my ($jobname, $logtemplate, $cmdtemplate, $num_threads) =
    @p{qw(jobname logtemplate cmdtemplate num_threads)};
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
  my $task_expr = defined $jobname ? $p{task_expr} : "1";
  my $job_ref = $p{job_ref};
  open(my $sh, ">", $script) or fail("cannot write job script $script: $!");
  print $sh <<"EOS";
#!/bin/bash
# Written by $ME at ${\ scalar localtime}; submitted from $cwd.
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
  echo "# Running on \$(hostname), $job_ref task \${task}"
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
  return { cwd => $cwd, qdir => $qdir, base => $base, script => $script, marker => $marker };
}

# Run the submit command; return the job id it printed first.
sub submit {
  my (@submit) = @_;
  my $out = `@{[ join(" ", map { sh_single($_) } @submit) ]} 2>&1`;
  if ($? != 0 || $out !~ m/^(\d+)/m) {
    $out =~ s/\s+/ /g;
    fail("submission failed: " . join(" ", @submit) . ": $out");
  }
  return $1;
}

# On SIGINT/SIGTERM: run $cancel (e.g. "qdel 42"), say $what, exit 130.
sub on_interrupt {
  my ($cancel, $what) = @_;
  my $handler = sub {
    system("$cancel >/dev/null 2>&1");
    print STDERR "$ME: interrupted; $what\n";
    exit 130;
  };
  $SIG{INT} = $handler;
  $SIG{TERM} = $handler;
}

# Wait until every task 1..N has an exit code: from its marker <marker>.<i>,
# else set by $check->([tasks without marker], {code}, {reason}) to -1 with a
# reason.  Returns ({task => code}, {task => reason}).
sub wait_for_markers {
  my ($njobs, $marker, $check) = @_;
  my (%code, %reason);
  my $t0 = Time::HiRes::time();
  my $interval = 0.5;
  while (scalar(keys %code) < $njobs) {
    Time::HiRes::sleep($interval);
    # Poll often at first (short jobs, tests), then at most every 10 s.
    $interval = 0.5 + 0.1 * (Time::HiRes::time() - $t0);
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
    $check->(\@unmarked, \%code, \%reason);
  }
  return (\%code, \%reason);
}

# Copy the reason of each task the scheduler failed into the task's log,
# which would otherwise end without an "# Ended" line, and fail with the
# first failing task's log if any task failed.  job: e.g. "Slurm job 42";
# task_ref: sub giving e.g. "Slurm job 42_3" for task 3.
sub report_cluster {
  my (%p) = @_;
  my ($code, $reason, $njobs, $logtemplate, $jobname) =
    @p{qw(code reason njobs logtemplate jobname)};
  for my $i (grep { $code->{$_} < 0 } keys %$code) {
    my $log = subst($logtemplate, $jobname, $i);
    if (open(my $fh, ">>", $log)) {
      print $fh "# $ME: task $i of $p{job} failed: $reason->{$i}\n";
      close($fh);
    }
  }
  my @failed = sort { $a <=> $b } grep { $code->{$_} != 0 } keys %$code;
  return unless @failed;
  my $i = $failed[0];
  my $msg = scalar(@failed) . " / $njobs failed, log is in " . subst($logtemplate, $jobname, $i);
  $msg .= $code->{$i} < 0 ? " ($reason->{$i}, " . $p{task_ref}->($i) . ")"
                          : " (exit code $code->{$i})";
  if (@failed > 1) {
    (my $all = $logtemplate) =~ s/\Q$jobname\E/*/g;
    $msg .= "; tasks " . join(",", @failed) . ": $all";
  }
  fail($msg);
}

1;
