# SerPython.pm: what the thin Perl wrappers of utils/ share (split_scp.pl,
# utt2spk_to_spk2utt.pl, spk2utt_to_utt2spk.pl: Kaldi's names and contracts,
# implemented once in Python).  Loaded with
#   use FindBin; use lib "$FindBin::RealBin/lib";
# so it is found through the egs/<corpus>/<recipe>/utils links too.
package SerPython;

use strict;
use warnings;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Exporter qw(import);

our @EXPORT_OK = qw(exec_python);

# exec_python(@args): replace this process with `python -m @args`: python3 on
# PATH (after path.sh) if it has espnet_ser, else this checkout's venv; one line
# and exit 1 when neither can run.
sub exec_python {
  my $python = "python3";
  if (system("python3 -c 'import espnet_ser' >/dev/null 2>&1") != 0) {
    my $root = dirname(dirname(abs_path($0)));
    $python = "$root/tools/venv/bin/python";
    if (! -x $python) {
      print STDERR "$0: python3 cannot import espnet_ser and $python is missing (source path.sh, or run tools/install.sh)\n";
      exit 1;
    }
  }
  exec($python, "-m", @_) or do { print STDERR "$0: cannot run $python: $!\n"; exit 1; };
}

1;
