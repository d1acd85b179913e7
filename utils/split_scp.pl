#!/usr/bin/env perl
# Usage: utils/split_scp.pl in.scp out1.scp ... outN.scp
#
# Kaldi's name and contract; a thin wrapper (this file is Perl only so that
# `perl utils/split_scp.pl` works as in Kaldi).  Implemented once in Python:
# espnet_ser/bin/split_scp.py (--help lists where it differs from Kaldi).  Errors are one line, exit 1.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use SerPython qw(exec_python);

exec_python("espnet_ser.bin.split_scp", @ARGV);
