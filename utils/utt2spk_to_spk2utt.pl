#!/usr/bin/env perl
# Usage: utils/utt2spk_to_spk2utt.pl [utt2spk ...] > spk2utt   (or: < utt2spk > spk2utt)
#
# Kaldi's name and contract; a thin wrapper (this file is Perl only so that
# `perl utils/utt2spk_to_spk2utt.pl` works as in Kaldi).  Implemented once in Python:
# espnet_ser/utils/data_dir.py (utt2spk_to_spk2utt).  Errors are one line, exit 1.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use SerPython qw(exec_python);

exec_python("espnet_ser.utils.data_dir", "utt2spk_to_spk2utt", @ARGV);
