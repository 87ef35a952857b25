#!/usr/bin/perl
# test_literals.pl MODE OUTDIR FILE...: seeds from the unit tests' sources.
#   strings: every C++ string literal ("..." with its escapes, and raw R"d(...)d"),
#            one file each;
#   hex:     every "0x..." hex string of whole bytes, decoded (RLP vectors).
# Files are named after a hash of their bytes, so repeats collapse.
use strict;
use warnings;
use Digest::SHA qw(sha1_hex);

my ($mode, $out, @files) = @ARGV;
die "usage: test_literals.pl strings|hex OUTDIR FILE...\n" unless $mode && $out && @files;
mkdir $out unless -d $out;

sub unescape {
  my ($s) = @_;
  my %simple = (n => "\n", t => "\t", r => "\r", '"' => '"', "'" => "'", '\\' => '\\', '?' => '?',
                a => "\a", b => "\b", f => "\f", v => "\x0b");
  $s =~ s{\\(?:x([0-9A-Fa-f]+)|([0-7]{1,3})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))}{
    defined $1 ? chr(hex($1) & 0xff)
    : defined $2 ? chr(oct($2) & 0xff)
    : defined $3 ? do { my $c = chr(hex($3)); utf8::encode($c); $c }
    : defined $4 ? do { my $c = chr(hex($4)); utf8::encode($c); $c }
    : exists $simple{$5} ? $simple{$5} : $5
  }gse;
  return $s;
}

my $written = 0;
sub emit {
  my ($bytes) = @_;
  return if $bytes eq '';
  my $path = "$out/test-" . sha1_hex($bytes);
  return if -e $path;
  open(my $fh, '>:raw', $path) or die "$path: $!";
  print $fh $bytes;
  close $fh;
  $written++;
}

for my $file (@files) {
  open(my $fh, '<:raw', $file) or die "$file: $!";
  local $/;
  my $src = <$fh>;
  close $fh;
  if ($mode eq 'hex') {
    while ($src =~ /"0x((?:[0-9a-fA-F]{2})+)"/g) { emit(pack('H*', $1)); }
    next;
  }
  # Comments out of the way first, literals kept whole (a "//" inside a string stays).
  while ($src =~ m{
      R"([^()\\\s]{0,16})\((.*?)\)\1"     # raw string
    | "((?:[^"\\\n]|\\.)*)"                # ordinary string
    | '(?:[^'\\\n]|\\.)+'                  # character literal: skipped
    | //[^\n]*                             # comment: skipped
    | /\*.*?\*/                            # comment: skipped
  }gsx) {
    if (defined $2) { emit($2); }
    elsif (defined $3) { emit(unescape($3)); }
  }
}
print "test_literals: $written files into $out\n";
