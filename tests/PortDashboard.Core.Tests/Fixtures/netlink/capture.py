import socket, struct, os
srv=socket.socket(); srv.bind(('127.0.0.1',0)); srv.listen(1); port=srv.getsockname()[1]
c=socket.create_connection(('127.0.0.1',port)); a,_=srv.accept()
c.sendall(b'x'*100000)
got=0
while got<100000: got+=len(a.recv(65536))
a.sendall(b'y'*5000); got=0
while got<5000: got+=len(c.recv(65536))
import time; time.sleep(0.2)
nl=socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)
req=struct.pack('<BBBBI', 2, 6, 2, 0, 1<<1)+struct.pack('>HH',port,0)+b'\0'*32+struct.pack('<IQ',0,0xffffffffffffffff)
hdr=struct.pack('<IHHII',16+len(req),20,0x301,1,0)
# filter by state ESTABLISHED only; dump all and pick
nl.send(hdr+req)
out=None
done=False
while not done:
    data=nl.recv(1<<20); off=0
    while off+16<=len(data):
        ln,ty,fl,seq,pid=struct.unpack_from('<IHHII',data,off)
        if ty==3: done=True;break
        p=data[off+16:off+ln]
        sport,dport=struct.unpack_from('>HH',p,4)
        if ty==20 and p[1]==1 and sport==port:
            out=p
        off+=(ln+3)&~3
open('tcp_established_server.bin','wb').write(out)
print(len(out), 'port', port)
