#!/usr/bin/env perl
# Usage: utils/split_scp.pl in.scp out1.scp ... outN.scp
#
# Kaldi's name and contract; a thin wrapper (this file is Perl only so that
# `perl utils/split_scp.pl` works as in Kaldi).  Implemented once in Python:
# espnet_ser/bin/split_scp.py (--help lists where it differs from Kaldi).  Errors are one line, exit 1.
use strict;
use warnings;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

# python3 on PATH (after path.sh) if it has espnet_ser, else this checkout's venv.
my $python = "python3";
if (system("python3 -c 'import espnet_ser' >/dev/null 2>&1") != 0) {
  my $root = dirname(dirname(abs_path($0)));
  $python = "$root/tools/venv/bin/python";
  if (! -x $python) {
    print STDERR "$0: python3 cannot import espnet_ser and $python is missing (source path.sh, or run tools/install.sh)\n";
    exit 1;
  }
}
exec($python, "-m", "espnet_ser.bin.split_scp", @ARGV)
  or do { print STDERR "$0: cannot run $python: $!\n"; exit 1; };
