// The one translation unit that compiles Asio's implementation (with SSL), so that
// every other file includes only Asio's declarations.
#include <asio/impl/src.hpp>
#include <asio/ssl/impl/src.hpp>
