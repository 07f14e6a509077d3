//! Container log lines and termination messages: language tracebacks, database and server
//! startup errors, build tools. Ordered: the most specific signature first.

use super::Signature;
use ks_core::Cause;

pub static TABLE: &[Signature] = &[
    // Data directory locks.
    Signature {
        id: "log-mongo-dbpathinuse",
        cause: Cause::CrashLockFile,
        pattern: r"DBPathInUse: Unable to lock the lock file: (?P<path>\S+)|Unable to lock the lock file: (?P<path2>\S+)",
    },
    Signature {
        id: "log-postgres-lock",
        cause: Cause::CrashLockFile,
        pattern: r#"lock file "(?P<path>[^"]+)" already exists|could not lock (?:file|data directory)"#,
    },
    Signature {
        id: "log-lock-generic",
        cause: Cause::CrashLockFile,
        pattern: r"failed to obtain node locks|another instance is (?:already )?running|Unable to acquire lock on|is locked by another process",
    },
    // Registry pushes from build jobs.
    Signature {
        id: "log-push-unauthorized",
        cause: Cause::ImageAuth,
        pattern: r"failed to (?:push|authorize)\b.*\b(?:401 Unauthorized|403 Forbidden|unauthorized|denied)|unauthorized: authentication required|denied: requested access to the resource is denied|UNAUTHORIZED: authentication required|error checking push permissions",
    },
    // Image builds.
    Signature {
        id: "log-build-dockerfile-missing",
        cause: Cause::BuildDockerfileMissing,
        pattern: r"failed to (?:load|read) Dockerfile|failed to read dockerfile|Cannot locate specified Dockerfile|error resolving dockerfile path",
    },
    Signature {
        id: "log-build-context-too-large",
        cause: Cause::BuildContextTooLarge,
        pattern: r"context too large|received message larger than max|build context .* exceeds|request entity too large",
    },
    Signature {
        id: "log-build-dependency-conflict",
        cause: Cause::BuildDependencyConflict,
        pattern: r"these package versions have conflicting dependencies|ResolutionImpossible|npm ERR! (?:code )?ERESOLVE|failed to select a version for",
    },
    Signature {
        id: "log-build-network",
        cause: Cause::BuildNetwork,
        pattern: r"ReadTimeoutError\(.*pypi|Could not fetch URL https://pypi|npm ERR! (?:code )?(?:ETIMEDOUT|ECONNRESET|network)|Temporary failure resolving '(?P<host>[^']+)'|Failed to fetch http\S+ +(?:Temporary failure|Connection timed out)",
    },
    // Wrong architecture.
    Signature { id: "log-exec-format", cause: Cause::ImagePlatform, pattern: r"exec format error" },
    // Command missing from the image.
    Signature {
        id: "log-exec-not-found",
        cause: Cause::CrashExecNotFound,
        pattern: r#"exec: "(?P<cmd>[^"]+)": (?:executable file not found in \$PATH|stat \S+: no such file or directory)|exec (?P<cmd2>\S+): no such file or directory|(?:/bin/)?(?:ba)?sh: (?:\d+: )?(?P<cmd3>[^:\s]+): (?:not found|No such file or directory)|command not found"#,
    },
    // Missing modules, packages, classes, shared libraries.
    Signature {
        id: "log-python-module",
        cause: Cause::CrashMissingDependency,
        pattern: r"ModuleNotFoundError: No module named '(?P<module>[^']+)'|ImportError: No module named '?(?P<module2>[\w.]+)",
    },
    Signature {
        id: "log-shared-library",
        cause: Cause::CrashMissingDependency,
        pattern: r"error while loading shared libraries: (?P<lib>\S+): cannot open shared object file|ImportError: (?P<lib2>lib\S+): cannot open shared object file",
    },
    Signature {
        id: "log-node-module",
        cause: Cause::CrashMissingDependency,
        pattern: r"Error: Cannot find module '(?P<module>[^']+)'|ERR_MODULE_NOT_FOUND",
    },
    Signature {
        id: "log-java-class",
        cause: Cause::CrashMissingDependency,
        pattern: r"java\.lang\.(?:ClassNotFoundException|NoClassDefFoundError):? (?P<class>\S+)|Could not find or load main class (?P<class2>\S+)",
    },
    Signature {
        id: "log-ruby-load",
        cause: Cause::CrashMissingDependency,
        pattern: r"cannot load such file -- (?P<module>\S+)",
    },
    // Out of memory inside the runtime (the cgroup kill is read from the termination reason).
    Signature {
        id: "log-oom",
        cause: Cause::CrashOom,
        pattern: r"java\.lang\.OutOfMemoryError|JavaScript heap out of memory|fatal error: runtime: out of memory|^MemoryError\b|Cannot allocate memory",
    },
    // Ports.
    Signature {
        id: "log-port-in-use",
        cause: Cause::CrashPortInUse,
        pattern: r"address already in use|EADDRINUSE|Address already in use|Only one usage of each socket address",
    },
    // Permissions.
    Signature {
        id: "log-permission",
        cause: Cause::CrashPermission,
        pattern: r"\[Errno 13\] Permission denied|[Pp]ermission denied|EACCES|Read-only file system|EROFS|Operation not permitted|AccessDeniedException",
    },
    // Dependencies the app needs and cannot reach.
    Signature {
        id: "log-dependency-dns",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) (?P<host>[\w.-]+)|(?P<host2>[\w.-]+):(?P<port>\d+): \[Errno -[23]\] (?:Name or service not known|Temporary failure in name resolution)|Name or service not known|Temporary failure in name resolution|dial tcp: lookup (?P<host3>[\w.-]+)(?: on \S+)?: no such host|could not translate host name \x22(?P<host4>[^\x22]+)\x22",
    },
    Signature {
        id: "log-dependency-refused",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r"ServerSelectionTimeoutError|MongoNetworkError|MongoServerSelectionError|ECONNREFUSED (?P<addr>\S+)|connect ECONNREFUSED|Connection refused|connection refused|could not connect to server|Communications link failure|Can't connect to MySQL server|redis\.exceptions\.ConnectionError|Error connecting to Redis|Is the server running on host",
    },
    Signature {
        id: "log-dependency-auth",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r#"password authentication failed for user|Access denied for user|MongoServerError: Authentication failed|Authentication failed\.|FATAL:\s+role "[^"]+" does not exist|database "[^"]+" does not exist"#,
    },
    // Configuration.
    Signature {
        id: "log-config-url-scheme",
        cause: Cause::CrashConfig,
        pattern: r#"unsupported protocol scheme \\?"(?P<scheme>[^"\\]*)\\?""#,
    },
    Signature {
        id: "log-config-env",
        cause: Cause::CrashConfig,
        pattern: r"KeyError: '(?P<var>[A-Z][A-Z0-9_]+)'|environment variable (?:\x22|'|`)?(?P<var2>[A-Z][A-Z0-9_]+)(?:\x22|'|`)? (?:is )?(?:not set|missing|required|must be set|is required)|(?:missing|required) (?:required )?environment variable:? (?:\x22|'|`)?(?P<var3>[A-Z][A-Z0-9_]+)|(?P<var4>[A-Z][A-Z0-9_]{2,}) (?:is not set|must be set|is required|not defined)",
    },
    Signature {
        id: "log-config-validation",
        cause: Cause::CrashConfig,
        pattern: r"validation errors? for (?P<model>\w+)|pydantic_core\._pydantic_core\.ValidationError|flag provided but not defined: (?P<flag>\S+)|unknown (?:shorthand )?flag:? (?P<flag2>\S+)|Error: Invalid value for|invalid configuration|configuration error|config(?:uration)? file .* not found|yaml: line \d+:|Error parsing config",
    },
];

/// Lines worth quoting when nothing above matches.
pub static SALIENT: &[Signature] = &[
    Signature { id: "salient-go-panic", cause: Cause::CrashUnknown, pattern: r"^panic: |^fatal error: " },
    Signature { id: "salient-rust-panic", cause: Cause::CrashUnknown, pattern: r"thread '[^']*' panicked at" },
    Signature {
        id: "salient-exception",
        cause: Cause::CrashUnknown,
        pattern: r"^\w+(?:\.\w+)*(?:Error|Exception)\b|Exception in thread|^Caused by: |Uncaught \w+",
    },
    Signature {
        id: "salient-error",
        cause: Cause::CrashUnknown,
        pattern: r"\b(?:FATAL|CRITICAL|ERROR|Error|error|fatal)\b",
    },
];

super::matcher!(MATCHER, TABLE);
super::matcher!(SALIENT_MATCHER, SALIENT);

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(line: &str) -> Option<Cause> {
        MATCHER.first(line).map(|m| m.sig.cause)
    }

    #[test]
    fn classifies_seed_and_pasted_lines() {
        assert_eq!(
            cause(
                "2020-08-11T09:07:14.244+0000 I  STORAGE  [initandlisten] exception in initAndListen: DBPathInUse: Unable to lock the lock file: /data/db/mongod.lock (Resource temporarily unavailable). Another mongod instance is already running on the /data/db directory, terminating"
            ),
            Some(Cause::CrashLockFile)
        );
        assert_eq!(cause("ModuleNotFoundError: No module named 'dapr'"), Some(Cause::CrashMissingDependency));
        assert_eq!(
            cause("/usr/local/bin/python: can't open file '/root/.local/bin/uvicorn': [Errno 13] Permission denied"),
            Some(Cause::CrashPermission)
        );
        assert_eq!(
            cause("pymongo.errors.ServerSelectionTimeoutError: mongodb:27017: [Errno -2] Name or service not known"),
            Some(Cause::CrashDependencyUnreachable)
        );
        assert_eq!(
            cause(
                r#"logger=tsdb.prometheus t=2024-01-01 level=error msg="Post \"/api/v1/query\": unsupported protocol scheme \"\"""#
            ),
            Some(Cause::CrashConfig)
        );
        assert_eq!(
            cause(
                "error: failed to solve: failed to push registry.digitalocean.com/acme/api:1.4.2: failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://api.digitalocean.com/v2/registry/auth: 401 Unauthorized"
            ),
            Some(Cause::ImageAuth)
        );
        assert_eq!(cause("exec /usr/local/bin/server: exec format error"), Some(Cause::ImagePlatform));
        assert_eq!(cause(r#"exec: "uvicorn": executable file not found in $PATH"#), Some(Cause::CrashExecNotFound));
        assert_eq!(cause("Error: listen EADDRINUSE: address already in use :::3000"), Some(Cause::CrashPortInUse));
        assert_eq!(cause("KeyError: 'DATABASE_URL'"), Some(Cause::CrashConfig));
        assert_eq!(cause("Error: Cannot find module 'express'"), Some(Cause::CrashMissingDependency));
        assert_eq!(cause("INFO:     Application startup complete."), None);
    }

    #[test]
    fn picks_the_most_specific_signature_across_lines() {
        let lines: Vec<String> = [
            "Traceback (most recent call last):",
            "  File \"/app/main.py\", line 3, in <module>",
            "ModuleNotFoundError: No module named 'dapr'",
            "Error: exiting",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (m, line) = MATCHER.first_in_lines(&lines).unwrap();
        assert_eq!(m.get("module"), "dapr");
        assert!(line.starts_with("ModuleNotFoundError"));
    }
}
