# Derives the shorter and broken fixtures from tcp_established_server.bin (captured by capture.py on Linux 6.x:
# a loopback server socket that received 100,000 bytes and sent 5,000). Run from this folder: python3 variants.py
import struct
msg = open('tcp_established_server.bin', 'rb').read()
base, attrs = msg[:72], msg[72:]
off, parts = 0, []
while off + 4 <= len(attrs):
    ln, ty = struct.unpack_from('<HH', attrs, off)
    parts.append((ty, attrs[off:off + ln]))
    off += (ln + 3) & ~3
info = dict(parts)[2][4:]

def with_info(length):
    body = info[:length]
    attr = struct.pack('<HH', 4 + len(body), 2) + body
    return base + attr + b'\0' * (-len(attr) % 4)

open('tcp_info_linux_4_1.bin', 'wb').write(with_info(136))   # byte counters, no delivery rate
open('tcp_info_linux_2_6.bin', 'wb').write(with_info(104))   # up to total_retrans only
open('tcp_info_too_short.bin', 'wb').write(with_info(100))   # shorter than any kernel's: skipped
whole = with_info(len(info))
open('tcp_info_truncated.bin', 'wb').write(whole[:72 + 4 + 60])  # rta_len says more than the message holds
