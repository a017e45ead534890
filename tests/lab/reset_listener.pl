#!/usr/bin/env perl
# The lab's failing web server for scenarios with `servers: {failing: [{mode: tcp_reset}]}`:
# listens on the given addresses and ports (in place of nginx), accepts every
# connection, reads what the client sends first (a ClientHello, a request; at most
# 1 s), then resets it (SO_LINGER 0, so close() sends a RST). The reset is the
# server's own: every vantage point sees it, censored or not.
#
#   reset_listener.pl FILE      FILE: one "ADDRESS PORT" per line (IPv4 or IPv6)
#
# Started and stopped by tests/lab/lab.sh in vgl-server; logs one line per reset.
use strict;
use warnings;
use IO::Select;
use IO::Socket::IP;
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time);

$| = 1;
my $file = shift @ARGV or die "usage: reset_listener.pl FILE\n";
open(my $fh, '<', $file) or die "reset_listener: cannot read $file: $!\n";
my @endpoints = map { [split ' '] } grep { /\S/ } <$fh>;
close $fh;

my $select = IO::Select->new;
my %listener;    # fileno -> "address port"
for my $ep (@endpoints) {
  my ($addr, $port) = @$ep;
  my $sock;
  # nginx may still hold the address for a moment after its reload: retry for 3 s.
  for my $try (1 .. 60) {
    $sock = IO::Socket::IP->new(LocalHost => $addr, LocalPort => $port, Listen => 128,
                                ReuseAddr => 1, Proto => 'tcp');
    last if $sock;
    select(undef, undef, undef, 0.05);
  }
  die "reset_listener: cannot listen on $addr $port: $@\n" unless $sock;
  $select->add($sock);
  $listener{fileno $sock} = "$addr $port";
}
print "reset_listener: listening on ", scalar(@endpoints), " endpoints\n";

$SIG{TERM} = $SIG{INT} = sub { exit 0 };
my %deadline;    # accepted socket -> time to reset it at the latest
my %bytes;
while (1) {
  my $now = time;
  my $wait = 1;
  for my $c (values %deadline) { $wait = $c->[1] - $now if $c->[1] - $now < $wait }
  $wait = 0 if $wait < 0;
  for my $s ($select->can_read($wait)) {
    if (exists $listener{fileno $s}) {
      my $c = $s->accept or next;
      $c->blocking(0);
      $select->add($c);
      $deadline{fileno $c} = [$c, time + 1, $listener{fileno $s}];
      next;
    }
    my $n = sysread($s, my $buf, 65536);
    $bytes{fileno $s} += $n if $n;
    Reset($s);
  }
  $now = time;
  for my $fd (keys %deadline) { Reset($deadline{$fd}[0]) if $deadline{$fd}[1] <= $now }
}

sub Reset {
  my ($c) = @_;
  my $fd = fileno $c;
  my $what = $deadline{$fd}[2];
  my $peer = $c->peerhost // '?';
  setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
  $select->remove($c);
  close $c;
  delete $deadline{$fd};
  printf "reset %s from %s after %d bytes\n", $what, $peer, delete $bytes{$fd} // 0;
}
