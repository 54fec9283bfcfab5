// Refuses to start, with a message, under an address-space limit (ulimit -v,
// common on clusters) too tight for OpenBLAS to start. OpenBLAS maps its
// buffers while it initialises and retries a failing mapping forever (its
// issue #5289; Debian 12 ships 0.3.21), so without this check `fluxion`
// hangs before main under such a limit.
//
// OpenBLAS initialises with the shared libraries, before main and before any
// constructor of this program. The one hook that runs earlier is the
// executable's .preinit_array: after every library is mapped (so their size
// is known), before any is initialised. Only system calls and libc functions
// that need no initialisation (snprintf, strstr) are used here.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

// What OpenBLAS maps while it starts, measured with Debian's 0.3.21
// (openmp): about 300 MB whatever the thread count (its buffers are sized
// when OpenBLAS is built), plus a margin for the rest of start-up.
constexpr unsigned long long kOpenBlasStartUpBytes = 340ull << 20;

// VmSize of this process in bytes (what RLIMIT_AS counts); 0 if unknown.
unsigned long long mapped_bytes() {
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[4096];
  const ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  const char* line = std::strstr(text, "VmSize:");
  if (line == nullptr) return 0;
  unsigned long long kib = 0;
  for (const char* c = line + 7; *c != '\n' && *c != '\0'; ++c)
    if (*c >= '0' && *c <= '9') kib = kib * 10 + static_cast<unsigned long long>(*c - '0');
  return kib * 1024;
}

void check_address_space(int, char**, char**) {
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  const unsigned long long mapped = mapped_bytes();
  const unsigned long long needed = mapped + kOpenBlasStartUpBytes;
  if (mapped == 0 || limit.rlim_cur >= needed) return;
  char message[512];
  const int length = std::snprintf(
      message, sizeof message,
      "fluxion: error: the address-space limit (ulimit -v) is %llu KiB, too little to start: the program's "
      "libraries map %llu KiB and OpenBLAS needs about %llu KiB more, without which it hangs (OpenBLAS issue "
      "#5289); raise the limit to at least %llu KiB (ulimit -v %llu) or lift it\n",
      static_cast<unsigned long long>(limit.rlim_cur) / 1024, mapped / 1024, kOpenBlasStartUpBytes / 1024,
      needed / 1024, needed / 1024);
  if (length > 0) [[maybe_unused]] const ssize_t written = write(2, message, static_cast<std::size_t>(length));
  _exit(2);
}

}  // namespace

// Runs before every library's initialiser (see above).
__attribute__((section(".preinit_array"), used)) void (*const fluxion_check_address_space)(int, char**, char**) =
    check_address_space;
