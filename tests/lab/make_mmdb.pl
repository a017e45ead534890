#!/usr/bin/perl
# Builds the lab's two GeoIP databases from tests/lab/endpoints.csv:
#   asn.mmdb      GeoLite2-ASN-like  (autonomous_system_number, autonomous_system_organization)
#   country.mmdb  GeoLite2-Country-like (country.iso_code, country.names.en, registered_country)
# Lab networks (198.18.0.0/15, fd00::/8) map to the ASNs the real services use, so
# ASN-based checks (e.g. facebook_messenger's "is this AS32934?") work in the lab.
#
# usage: make_mmdb.pl ENDPOINTS_CSV OUT_DIR
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($csv, $out) = @ARGV;
die "usage: $0 ENDPOINTS_CSV OUT_DIR\n" unless defined $out;

my %country_name = (CN => 'China', DE => 'Germany', NL => 'Netherlands', US => 'United States',
                    SG => 'Singapore', GB => 'United Kingdom');

# network => [asn, organisation, country]. Broad ranges first; the per-endpoint rows
# of endpoints.csv are inserted afterwards and take precedence for their address.
my @ranges = (
  ['198.18.1.0/24',    64500, 'LAB-ISP-CN Censored Telecom', 'CN'],   # vgl-client
  ['fd00:1::/64',      64500, 'LAB-ISP-CN Censored Telecom', 'CN'],
  ['198.18.11.0/30',   64500, 'LAB-ISP-CN Censored Telecom', 'CN'],   # r1 - r2 link
  ['fd00:11::/64',     64500, 'LAB-ISP-CN Censored Telecom', 'CN'],
  ['198.18.2.0/24',    64501, 'LAB-ISP-DE Open Networks',    'DE'],   # vgl-client2
  ['fd00:2::/64',      64501, 'LAB-ISP-DE Open Networks',    'DE'],
  ['198.18.20.0/24',   64511, 'LAB-TRANSIT',                 'US'],   # server link, resolver
  ['fd00:20::/64',     64511, 'LAB-TRANSIT',                 'US'],
  ['198.18.30.0/24',   64510, 'LAB-CONTROL',                 'NL'],   # vgl-control
  ['fd00:30::/64',     64510, 'LAB-CONTROL',                 'NL'],
  ['198.18.64.0/18',   64496, 'LAB-HOSTING',                 'US'],   # all service addresses
  ['fd00:64::/64',     64496, 'LAB-HOSTING',                 'US'],
  ['198.18.70.0/24',   62041, 'Telegram Messenger Inc',      'NL'],
  ['fd00:64::70:0/112',62041, 'Telegram Messenger Inc',      'NL'],
  ['198.18.71.0/24',   32934, 'FACEBOOK',                    'US'],   # WhatsApp
  ['fd00:64::71:0/112',32934, 'FACEBOOK',                    'US'],
  ['198.18.72.0/24',   16509, 'AMAZON-02',                   'US'],   # Signal
  ['fd00:64::72:0/112',16509, 'AMAZON-02',                   'US'],
  ['198.18.73.0/24',   32934, 'FACEBOOK',                    'US'],   # Facebook
  ['fd00:64::73:0/112',32934, 'FACEBOOK',                    'US'],
  ['198.18.74.0/25',   45090, 'Shenzhen Tencent Computer Systems Company Limited', 'CN'],
  ['198.18.74.128/25', 132203,'Tencent Building Kejizhongyi Avenue', 'SG'],
  ['fd00:64::74:0/112',45090, 'Shenzhen Tencent Computer Systems Company Limited', 'CN'],
  # The censor's forged DNS answers. The GFW answers with routed addresses of unrelated
  # networks, which an ASN database places in their own AS; an address it does not
  # place at all is no evidence of forgery, so the lab's pool needs an AS too.
  ['198.18.240.0/24',  64499, 'LAB-ELSEWHERE Unrelated Hosting', 'US'],
);
my %country_of_asn = map { $_->[1] => $_->[3] } @ranges;

my @rows;
open(my $fh, '<', $csv) or die "$csv: $!\n";
my $header = <$fh>;
while (my $line = <$fh>) {
  chomp $line;
  next if $line =~ /^\s*(#|$)/;
  my ($name, $kind, $real, $v4, $v6, $asn, $org) = split /,/, $line;
  die "$csv:$.: bad row\n" unless defined $org && $asn =~ /^\d+$/;
  my $cc = $country_of_asn{$asn} // 'US';
  $cc = 'SG' if $asn == 132203;
  push @rows, ["$v4/32", $asn, $org, $cc], ["$v6/128", $asn, $org, $cc];
}
close $fh;

my %types_asn = (autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string');
my %types_cc = (country => 'map', registered_country => 'map', iso_code => 'utf8_string',
                names => 'map', en => 'utf8_string', geoname_id => 'uint32');

sub tree {
  my ($type, $desc, $types) = @_;
  return MaxMind::DB::Writer::Tree->new(
    ip_version => 6, record_size => 24, database_type => $type,
    languages => ['en'], description => { en => $desc },
    remove_reserved_networks => 0, alias_ipv6_to_ipv4 => 1,
    map_key_type_callback => sub { $types->{ $_[0] } // die "no type for key $_[0]\n" },
  );
}
my $asn_tree = tree('GeoLite2-ASN', 'vigil lab ASN database', \%types_asn);
my $cc_tree = tree('GeoLite2-Country', 'vigil lab country database', \%types_cc);

for my $r (@ranges, @rows) {
  my ($net, $asn, $org, $cc) = @$r;
  $asn_tree->insert_network($net, { autonomous_system_number => $asn,
                                    autonomous_system_organization => $org });
  my $c = { iso_code => $cc, names => { en => $country_name{$cc} // $cc } };
  $cc_tree->insert_network($net, { country => $c, registered_country => $c });
}

for my $pair (['asn.mmdb', $asn_tree], ['country.mmdb', $cc_tree]) {
  my $path = "$out/$pair->[0]";
  open(my $o, '>:raw', "$path.tmp") or die "$path.tmp: $!\n";
  $pair->[1]->write_tree($o);
  close $o or die "$path.tmp: $!\n";
  rename "$path.tmp", $path or die "$path: $!\n";
}
