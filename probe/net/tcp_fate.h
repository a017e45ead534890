// What became of a TCP connection, asked of the kernel through a socket that is still
// open: for client libraries that report a lost connection only coarsely (libstrophe
// says "reset" for a peer's FIN too; libmosquitto says "connection lost"), the delivery
// transports keep a duplicate of each socket and classify the loss themselves in OONI's
// vocabulary. Pure functions of the socket's state; thread-safe.
#pragma once

#include <string>

namespace vigil {

/// For a connected socket `fd` that has failed or been closed by the peer: a pending
/// socket error as FailureFromErrno says (connection_reset, ...); else connection_reset
/// when the connection is gone (TCP CLOSE: a reset), eof_error when the peer closed its
/// side (CLOSE_WAIT and the states after it); "" while it is still established, i.e.
/// the failure was above TCP, or when the kernel cannot say.
std::string FailureFromTcpState(int fd);

/// True when the TCP handshake of `fd` completed at some point (the kernel took a
/// round-trip sample from the SYN-ACK), even if the connection has failed since: tells a
/// reset connection from a refused connect once the socket's error has been read.
bool TcpHandshakeCompleted(int fd);

}  // namespace vigil
