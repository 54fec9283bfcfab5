//! @file
//! Ctrl-C (SIGINT) and SIGTERM as a request to stop at the next safe point
//! rather than at once, so that a long job says where it stopped and how to
//! go on. The fluxion command installs the handlers; the trainer asks
//! between batches. A program of one's own that links the library and
//! installs nothing keeps the signals' default meaning.
#pragma once

namespace fluxion {

/// Installs the handlers. The first SIGINT or SIGTERM records itself and
/// restores the default action, so a second one ends the process at once.
void install_stop_handlers();
/// 0, or the signal (SIGINT, SIGTERM) that asked to stop.
int stop_requested();
/// Forgets a request (tests).
void clear_stop_request();

}  // namespace fluxion
