#include "probe/net/deadline.h"

#include <asio/steady_timer.hpp>

namespace vigil {

struct Deadline::State {
  explicit State(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::function<void()> on_expiry;
  bool expired = false;
  bool disarmed = false;
};

Deadline::Deadline(const asio::any_io_executor& executor, Millis timeout,
                   std::function<void()> on_expiry)
    : state_(std::make_shared<State>(executor)) {
  state_->on_expiry = std::move(on_expiry);
  state_->timer.expires_after(timeout);
  // The handler owns the state: it may run after this Deadline is gone.
  state_->timer.async_wait([state = state_](const std::error_code& ec) {
    if (ec || state->disarmed) return;
    state->expired = true;
    if (state->on_expiry) state->on_expiry();
  });
}

Deadline::~Deadline() {
  state_->disarmed = true;
  state_->on_expiry = nullptr;
  state_->timer.cancel();
}

bool Deadline::expired() const { return state_->expired; }

}  // namespace vigil
