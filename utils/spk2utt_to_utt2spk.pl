#!/usr/bin/env perl
# Usage: utils/spk2utt_to_utt2spk.pl [spk2utt ...] > utt2spk   (or: < spk2utt > utt2spk)
#
# Kaldi's name and contract; a thin wrapper (this file is Perl only so that
# `perl utils/spk2utt_to_utt2spk.pl` works as in Kaldi).  Implemented once in Python:
# espnet_ser/utils/data_dir.py (spk2utt_to_utt2spk).  Errors are one line, exit 1.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use SerPython qw(exec_python);

exec_python("espnet_ser.utils.data_dir", "spk2utt_to_utt2spk", @ARGV);
