#!/usr/bin/env python3
"""Write a synthetic trafan graph.dot: sites of clients around servers, one
port scanner (flagged source) and one flooded host (flagged target).

usage: gen-graph.py HOSTS [SEED] > graph.dot
"""
import random
import sys


def main():
    hosts = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    names = []
    site_of = {}
    sites = max(1, hosts // 40)
    for i in range(hosts):
        site = i % sites
        if rng.random() < 0.15:
            name = "2001:db8:%x:%x::%x" % (site // 256, site % 256, i + 1)
        else:
            name = "10.%d.%d.%d" % (site // 250, site % 250, 1 + (i // sites) % 254)
        if name in site_of:
            name = "172.%d.%d.%d" % (16 + i // 65536 % 16, i // 256 % 256, i % 256)
        names.append(name)
        site_of[name] = site

    by_site = {}
    for name in names:
        by_site.setdefault(site_of[name], []).append(name)
    edges = {}

    def talk(a, b, scale, protocol, flag=None):
        if a == b or (a, b) in edges or (b, a) in edges:
            return
        ab = int(rng.paretovariate(1.2) * scale)
        ba = int(rng.paretovariate(1.2) * scale)
        edges[(a, b)] = (ab, ba, protocol, flag)

    protocols = ["tls", "tls", "tls", "http", "dns", "dns", "ssh", "udp", "quic", "smb"]
    for site, members in by_site.items():
        servers = members[: max(1, len(members) // 10)]
        for m in members:
            for _ in range(rng.randint(1, 3)):
                talk(m, rng.choice(servers), 2000, rng.choice(protocols))
        if rng.random() < 0.5:
            talk(rng.choice(members), rng.choice(names), 500, rng.choice(protocols))
    scanner = names[rng.randrange(hosts)]
    victim = names[rng.randrange(hosts)]
    for target in rng.sample(names, min(hosts - 1, max(3, min(200, hosts // 5)))):
        talk(scanner, target, 60, "tcp", "port_scan")
    for source in rng.sample(names, min(hosts - 1, 20)):
        talk(source, victim, 5000, "tcp", "syn_flood")

    tx = {n: [0, 0] for n in names}
    rx = {n: [0, 0] for n in names}
    peers = {n: 0 for n in names}
    for (a, b), (ab, ba, _, _) in edges.items():
        tx[a][0] += ab // 100 + 1; tx[a][1] += ab
        rx[b][0] += ab // 100 + 1; rx[b][1] += ab
        tx[b][0] += ba // 100 + 1; tx[b][1] += ba
        rx[a][0] += ba // 100 + 1; rx[a][1] += ba
        peers[a] += 1
        peers[b] += 1
    packets = sum(v[0] for v in tx.values())
    total = sum(v[1] for v in tx.values())

    out = sys.stdout
    out.write('graph "trafan" {\n')
    out.write('  graph [trafan_format="1", packets="%d", bytes="%d", first_time="1700000000.000000000", '
              'last_time="1700000600.000000000", duration="600.000000000", hosts="%d", conversations="%d", '
              'hosts_aggregated="0", interval="1.000000", filter="", capture="synthetic-%d.pcap", '
              'rules="port_scan: 20 ports in 300 s; syn_flood: 100/s in 1 s"];\n'
              % (packets, total, hosts, len(edges), hosts))
    for n in names:
        extra = ""
        if n == scanner:
            extra = ', flag="true", rule="port_scan", role="source"'
        elif n == victim:
            extra = ', flag="true", rule="syn_flood", role="target"'
        out.write('  "%s" [family="%s", tx_packets="%d", tx_bytes="%d", rx_packets="%d", rx_bytes="%d", '
                  'packets="%d", bytes="%d", peers="%d", dst_ports="3", first="0.000000000", '
                  'last="600.000000000"%s];\n'
                  % (n, "6" if ":" in n else "4", tx[n][0], tx[n][1], rx[n][0], rx[n][1],
                     tx[n][0] + rx[n][0], tx[n][1] + rx[n][1], peers[n], extra))
    for (a, b), (ab, ba, protocol, flag) in edges.items():
        out.write('  "%s" -- "%s" [a_to_b_packets="%d", a_to_b_bytes="%d", b_to_a_packets="%d", '
                  'b_to_a_bytes="%d", packets="%d", bytes="%d", protocol="%s", protocols="%s:%d", '
                  'start="1.000000000", duration="10.000000000"%s];\n'
                  % (a, b, ab // 100 + 1, ab, ba // 100 + 1, ba, ab // 100 + ba // 100 + 2, ab + ba,
                     protocol, protocol, ab // 100 + ba // 100 + 2,
                     ', flag="%s"' % flag if flag else ""))
    out.write("}\n")


if __name__ == "__main__":
    main()
