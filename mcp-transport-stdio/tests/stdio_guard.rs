//! The stdout guard, in this very process: while a `StdioTransport` lives, fd 1 is stderr and
//! fd 0 is `/dev/null`; dropping it restores both (and their blocking mode). One test in its own
//! binary, since it rewires the process's descriptors.

use std::os::fd::{AsFd, BorrowedFd};

use rustix::fs::{OFlags, Stat};

fn identity(fd: BorrowedFd<'_>) -> (u64, u64) {
    let stat: Stat = rustix::fs::fstat(fd).unwrap();
    (stat.st_dev as u64, stat.st_ino as u64)
}

fn nonblocking(fd: BorrowedFd<'_>) -> bool {
    rustix::fs::fcntl_getfl(fd).unwrap().contains(OFlags::NONBLOCK)
}

#[tokio::test]
async fn the_guard_redirects_and_restores_stdin_and_stdout() {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let before = (identity(stdin.as_fd()), identity(stdout.as_fd()));
    let blocking_before = (nonblocking(stdin.as_fd()), nonblocking(stdout.as_fd()));
    let dev_null = identity(std::fs::File::open("/dev/null").unwrap().as_fd());

    let transport = mcp_transport_stdio::stdio().unwrap();
    assert_eq!(identity(stdout.as_fd()), identity(stderr.as_fd()), "fd 1 points at stderr while serving");
    assert_eq!(identity(stdin.as_fd()), dev_null, "fd 0 reads /dev/null while serving");

    let second = mcp_transport_stdio::stdio().unwrap_err();
    assert_eq!(second.kind(), std::io::ErrorKind::AlreadyExists, "{second}");

    drop(transport);
    assert_eq!((identity(stdin.as_fd()), identity(stdout.as_fd())), before, "fd 0 and 1 are restored");
    assert_eq!((nonblocking(stdin.as_fd()), nonblocking(stdout.as_fd())), blocking_before, "blocking mode is restored");

    // And stdio can be taken again.
    drop(mcp_transport_stdio::stdio().unwrap());
    assert_eq!((identity(stdin.as_fd()), identity(stdout.as_fd())), before);
}
