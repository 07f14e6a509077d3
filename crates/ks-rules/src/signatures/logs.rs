//! Container log lines and termination messages: language runtimes (Python, Node, Java,
//! Go, Rust, Ruby), servers (nginx, gunicorn/uvicorn, Spring Boot), databases (PostgreSQL,
//! MySQL/MariaDB, MongoDB, Redis, Elasticsearch) and image builders (BuildKit, docker, pip,
//! npm, apt). Ordered: the most specific signature first, catch-alls last, because the line
//! that matches the earliest signature wins over every other line of the log.
//!
//! Capture names the rules read: `path`, `module`, `lib`, `class`, `cmd`, `arg`, `host`,
//! `port`, `addr`, `var`, `flag`, `user`, `scheme`, `url`, `req`, `pkg`, `file`.

use super::Signature;
use ks_core::Cause;

/// An environment variable name inside a case-insensitive pattern: upper case only.
macro_rules! env_name {
    () => {
        r"(?-i:[A-Z][A-Z0-9_]{2,})"
    };
}

pub static TABLE: &[Signature] = &[
    // ── Data directory locks ────────────────────────────────────────────────────────────
    // mongod: `exception in initAndListen: DBPathInUse: Unable to lock the lock file:
    // /data/db/mongod.lock (Resource temporarily unavailable). Another mongod instance is
    // already running on the /data/db directory, terminating`
    Signature {
        id: "log-mongo-dbpathinuse",
        cause: Cause::CrashLockFile,
        pattern: r"DBPathInUse: Unable to lock the lock file: (?P<path>[^\s(]+)|Unable to lock the lock file: (?P<path2>[^\s(]+)|Another mongod instance is already running on the (?P<path3>\S+) directory",
    },
    // postgres: `FATAL:  lock file "postmaster.pid" already exists` (+ `HINT:  Is another
    // postmaster (PID 1) running in data directory "/var/lib/postgresql/data"?`)
    Signature {
        id: "log-postgres-lock",
        cause: Cause::CrashLockFile,
        pattern: r#"lock file "(?P<path>[^"]+)" already exists|Is another postmaster \(PID \d+\) running in data directory "(?P<path2>[^"]+)"|could not lock (?:file|data directory)"#,
    },
    // mysqld/mariadbd: `[ERROR] InnoDB: Unable to lock ./ibdata1 error: 11`
    Signature {
        id: "log-mysql-lock",
        cause: Cause::CrashLockFile,
        pattern: r"InnoDB\]?:? Unable to lock (?P<path>[^,\s]+),? error: \d+|Check that you do not already have another mysqld process using the same InnoDB data",
    },
    // Elasticsearch `failed to obtain node locks, tried [[/usr/share/elasticsearch/data]]`,
    // Prometheus `opening storage failed: lock DB directory: resource temporarily unavailable`.
    Signature {
        id: "log-lock-generic",
        cause: Cause::CrashLockFile,
        pattern: r"failed to obtain node locks(?:, tried \[\[(?P<path>[^\]]+)\]\])?|lock DB directory: resource temporarily unavailable|another instance is (?:already )?running|Unable to acquire lock on|is locked by another process",
    },
    // ── Registry pushes from build jobs ─────────────────────────────────────────────────
    Signature {
        id: "log-push-unauthorized",
        cause: Cause::ImageAuth,
        pattern: r"failed to (?:push|authorize)\b.*\b(?:401 Unauthorized|403 Forbidden|unauthorized|denied)|unauthorized: authentication required|denied: requested access to the resource is denied|UNAUTHORIZED: authentication required|error checking push permissions",
    },
    // ── Image builds (BuildKit, docker, kaniko; pip, npm, apt, apk, cargo, poetry) ──────
    // `ERROR: failed to solve: failed to read dockerfile: open Dockerfile: no such file or
    // directory`, legacy `unable to prepare context: unable to evaluate symlinks in
    // Dockerfile path`, kaniko `error resolving dockerfile path`.
    Signature {
        id: "log-build-dockerfile-missing",
        cause: Cause::BuildDockerfileMissing,
        pattern: r"failed to (?:load|read) Dockerfile(?:: open (?P<file>[^:\s]+))?|Cannot locate specified Dockerfile:? ?(?P<file2>\S*)|error resolving dockerfile path|unable to evaluate symlinks in Dockerfile path: lstat (?P<file3>[^:\s]+)",
    },
    Signature {
        id: "log-build-context-too-large",
        cause: Cause::BuildContextTooLarge,
        pattern: r"\bcontext too large|build context (?:is )?too large|build context .* exceeds|(?:failed to solve|context).*received message larger than max",
    },
    // pip: `Cannot install -r requirements.txt and pytest==9.0.2 because these package
    // versions have conflicting dependencies.`; npm `ERESOLVE`; cargo; poetry.
    Signature {
        id: "log-build-dependency-conflict",
        cause: Cause::BuildDependencyConflict,
        pattern: r"Cannot install (?P<req>.+?) because these package versions have conflicting dependencies|these package versions have conflicting dependencies|ResolutionImpossible|npm (?:ERR!|error) (?:code )?ERESOLVE|npm (?:ERR!|error) (?:ERESOLVE )?(?:unable to resolve dependency tree|could not resolve)|failed to select a version for (?:the requirement )?`?(?P<pkg>[\w-]+)|version solving failed|SolverProblemError",
    },
    // pip `WARNING: Retrying (Retry(total=4, ...)) after connection broken by
    // 'NewConnectionError(...)': /simple/flask/`, apt `Temporary failure resolving
    // 'deb.debian.org'`, apk `fetching https://dl-cdn.alpinelinux.org/...: temporary error`,
    // npm `ETIMEDOUT`, Go module proxy, and the seed's `failed to fetch <pkg>: connection timeout`.
    Signature {
        id: "log-build-network",
        cause: Cause::BuildNetwork,
        pattern: r"Could not fetch URL https?://(?P<host>[^/\s:]+)|after connection broken by (?:.*?(?:Connection to (?P<host9>[\w.-]+) timed out|host='(?P<host10>[^']+)'))?.*: /simple/|pip\._vendor\.urllib3\.exceptions\.\w+Error(?:: HTTPSConnectionPool\(host='(?P<host8>[^']+)')?|HTTPSConnectionPool\(host='(?P<host2>[^']*(?:pypi|pythonhosted)[^']*)'|npm (?:ERR!|error) (?:code )?(?:ETIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN|ENOTFOUND)|npm (?:ERR!|error) network|Temporary failure resolving '(?P<host3>[^']+)'|Could not resolve '(?P<host4>[^']+)'|Failed to fetch https?://(?P<host5>[^/\s]+)\S*\s+(?:Temporary failure|Connection timed out|Could not connect|Unable to connect)|fetching https?://(?P<host6>[^/\s]+)\S*: (?:temporary error|network error|could not connect)|(?P<host7>(?:proxy|sum)\.golang\.org)\S*.*(?:i/o timeout|no such host|connection refused|TLS handshake timeout)|failed to fetch \S+: connection timeout",
    },
    // pip `ERROR: Could not find a version that satisfies the requirement flask==9.9 (from
    // versions: ...)`, `No matching distribution found for`, apt `Unable to locate package`.
    Signature {
        id: "log-build-package-not-found",
        cause: Cause::BuildDependencyConflict,
        pattern: r"Could not find a version that satisfies the requirement (?P<req>\S+)|No matching distribution found for (?P<req2>\S+)|E: Unable to locate package (?P<pkg>\S+)|npm (?:ERR!|error) 404 +Not Found - GET \S+/(?P<pkg2>[^/\s]+) ",
    },
    // ── Starting the process ────────────────────────────────────────────────────────────
    // Wrong architecture: `exec /bin/app: exec format error`.
    Signature { id: "log-exec-format", cause: Cause::ImagePlatform, pattern: r"exec format error" },
    // `args` without `command` on an image without ENTRYPOINT: the runtime runs the first
    // flag as the program. `exec: "-port=80": executable file not found in $PATH`
    Signature {
        id: "log-args-as-command",
        cause: Cause::CrashConfig,
        pattern: r#"exec: \\?"(?P<arg>-[^"\\]*)\\?": executable file not found|executable file [`'"](?P<arg2>-[^`'"]*)[`'"] not found"#,
    },
    // `exec: "/app/start.sh": permission denied`: the entrypoint is not executable.
    Signature {
        id: "log-exec-permission",
        cause: Cause::CrashPermission,
        pattern: r#"exec: \\?"(?P<path>[^"\\]+)\\?": permission denied|exec (?P<path2>/\S+): permission denied|(?:ba|da)?sh: (?:\d+: |line \d+: )?(?P<path3>/\S+): Permission denied"#,
    },
    // containerd/runc `exec: "uvicorn": executable file not found in $PATH`, crun
    // `executable file 'uvicorn' not found in $PATH`, `exec /app/server: no such file or
    // directory`, shells, `/usr/bin/env: 'python': No such file or directory`, python
    // `can't open file '/app/main.py': [Errno 2] No such file or directory`.
    Signature {
        id: "log-exec-not-found",
        cause: Cause::CrashExecNotFound,
        pattern: r#"exec: \\?"(?P<cmd>[^"\\]+)\\?": (?:executable file not found in \$PATH|stat \S+: no such file or directory)|executable file [`'"]?(?P<cmd2>[^`'"\s]+)[`'"]? not found in \$PATH|exec (?P<cmd3>/\S+): no such file or directory|(?:ba|da)?sh: (?:\d+: |line \d+: )?(?:exec: )?(?P<cmd4>[^:\s]+): (?:not found|No such file or directory|command not found)|(?:ba|da)?sh: (?:\d+: )?can't open '?(?P<cmd5>[^':\s]+)'?|(?:/usr/bin/)?env: '?(?P<cmd6>[^':\s]+)'?: No such file or directory|can't open file '(?P<cmd7>[^']+)': \[Errno 2\] No such file or directory|exec user process caused:? "?no such file or directory"#,
    },
    // ── Missing modules, packages, classes, shared libraries ────────────────────────────
    Signature {
        id: "log-python-module",
        cause: Cause::CrashMissingDependency,
        pattern: r"ModuleNotFoundError: No module named '(?P<module>[^']+)'|ImportError: No module named '?(?P<module2>[\w.]+)|ImportError: cannot import name '(?P<name>\w+)' from '(?P<module3>[\w.]+)'",
    },
    // uvicorn `Error loading ASGI app. Could not import module "main".`
    Signature {
        id: "log-asgi-import",
        cause: Cause::CrashMissingDependency,
        pattern: r#"Error loading (?:ASGI|WSGI) app\. Could not import module "(?P<module>[^"]+)""#,
    },
    Signature {
        id: "log-shared-library",
        cause: Cause::CrashMissingDependency,
        pattern: r"error while loading shared libraries: (?P<lib>[^:\s]+): cannot open shared object file|(?P<lib2>lib[\w.+-]*\.so[\w.]*): cannot open shared object file",
    },
    // node `Error: Cannot find module 'express'`, ESM `Cannot find package 'x' imported from`.
    Signature {
        id: "log-node-module",
        cause: Cause::CrashMissingDependency,
        pattern: r"Cannot find module '(?P<module>[^']+)'|Cannot find package '(?P<module2>[^']+)'|ERR_MODULE_NOT_FOUND\]?:? ?(?:Cannot find (?:module|package) '(?P<module3>[^']+)')?",
    },
    Signature {
        id: "log-java-version",
        cause: Cause::CrashMissingDependency,
        pattern: r"UnsupportedClassVersionError: (?P<class>\S+) has been compiled by a more recent version of the Java Runtime \(class file version (?P<have>[\d.]+)\), this version of the Java Runtime only recognizes class file versions up to (?P<max>[\d.]+)",
    },
    Signature {
        id: "log-java-class",
        cause: Cause::CrashMissingDependency,
        pattern: r"java\.lang\.(?:ClassNotFoundException|NoClassDefFoundError):? (?P<class>[\w.$/]+)|Could not find or load main class (?P<class2>\S+)|Error: Unable to access jarfile (?P<module>\S+)",
    },
    // ruby `cannot load such file -- pg`, bundler, PHP `Failed opening required`.
    Signature {
        id: "log-ruby-load",
        cause: Cause::CrashMissingDependency,
        pattern: r"cannot load such file -- (?P<module>\S+)|Could not find (?P<module2>[\w.-]+-\d[\w.]*) in (?:any of the sources|locally installed gems)|Failed opening required '(?P<module3>[^']+)'",
    },
    // ── Out of memory inside the runtime (the cgroup kill is read from the termination) ─
    Signature {
        id: "log-oom",
        cause: Cause::CrashOom,
        pattern: r"java\.lang\.OutOfMemoryError|JavaScript heap out of memory|fatal error: runtime: out of memory|^MemoryError\b|Cannot allocate memory",
    },
    // ── Ports ───────────────────────────────────────────────────────────────────────────
    // Binding below 1024 as a non-root user: nginx `bind() to 0.0.0.0:80 failed (13:
    // Permission denied)`, Go `listen tcp :80: bind: permission denied`, node `listen
    // EACCES: permission denied 0.0.0.0:80`.
    Signature {
        id: "log-bind-privileged-port",
        cause: Cause::CrashPermission,
        pattern: r"bind\(\) to (?P<addr>\S+) failed \(13: Permission denied\)|listen tcp (?P<addr2>\S+): bind: permission denied|listen EACCES:? (?:permission denied )?(?P<addr3>\S+)|\[Errno 13\] error while attempting to bind on address \((?P<addr4>[^)]+)\)",
    },
    // nginx `bind() to 0.0.0.0:80 failed (98: Address already in use)`, Go `listen tcp
    // :8080: bind: address already in use`, node `listen EADDRINUSE: address already in use
    // :::3000`, uvicorn `[Errno 98] error while attempting to bind on address ('0.0.0.0',
    // 8000): address already in use`, Spring `Port 8080 was already in use.`, Redis.
    Signature {
        id: "log-port-in-use",
        cause: Cause::CrashPortInUse,
        pattern: r"bind\(\) to (?P<addr>\S+) failed \(98: Address already in use\)|listen tcp (?P<addr2>\S+): bind: address already in use|listen EADDRINUSE:? (?:address already in use )?(?P<addr3>\S+)|error while attempting to bind on address \((?P<addr4>[^)]+)\): address already in use|Port (?P<port>\d+) (?:was|is) already in use|listening socket (?P<addr5>\S+): bind: Address already in use|address already in use|EADDRINUSE|Only one usage of each socket address|BindException: Address already in use",
    },
    // ── Permissions with a path ─────────────────────────────────────────────────────────
    Signature {
        id: "log-permission-path",
        cause: Cause::CrashPermission,
        pattern: r#"can't open file '(?P<path>[^']+)': \[Errno 13\] Permission denied|\[Errno 13\] Permission denied: '(?P<path2>[^']+)'|cannot (?:create directory|create regular file|create|touch|open|remove|access|overwrite) [`'"]?(?P<path3>[^`'":]+)[`'"]?: Permission denied|(?:open|mkdir|stat|create|remove|chmod|rename|lstat|mkdirall) (?P<path4>/[^:\s]+): permission denied|EACCES: permission denied, \w+ '(?P<path5>[^']+)'|AccessDeniedException: (?P<path6>\S+)|could not (?:open|create|change permissions of|access|write to) (?:file|directory) "(?P<path7>[^"]+)": (?:Permission denied|Operation not permitted)|(?:mkdir|open)\(\) "(?P<path8>[^"]+)" failed \(13: Permission denied\)|changing ownership of '?(?P<path9>[^':\s]+)'?:? .*Operation not permitted|chown: '?(?P<path10>[^':\s]+)'?: Operation not permitted|data directory "(?P<path11>[^"]+)" has (?:wrong ownership|invalid permissions)|Attempted to create a lock file on a read-only directory: (?P<path12>\S+)|Read-only file system: '(?P<path13>[^']+)'|can't create (?P<path14>\S+): Read-only file system|(?P<path15>/[^:\s]+): Read-only file system|Can't open the log file: Permission denied|Fatal error loading the DB: Permission denied"#,
    },
    // ── Dependencies the app needs and cannot reach ─────────────────────────────────────
    // nginx resolves upstream names when it loads its config: `[emerg] host not found in
    // upstream "backend:8080" in /etc/nginx/conf.d/default.conf:12`.
    Signature {
        id: "log-nginx-upstream",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r#"host not found in upstream "(?P<host>[^"]+)""#,
    },
    // DNS: node `getaddrinfo ENOTFOUND redis`, pymongo `mongodb:27017: [Errno -2] Name or
    // service not known`, Go `dial tcp: lookup postgres on 10.96.0.10:53: no such host`,
    // libpq `could not translate host name "postgres" to address`, Java, MySQL, redis-py.
    Signature {
        id: "log-dependency-dns",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r#"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) (?P<host>[\w.-]+)|(?P<host2>[\w.-]+):(?P<port>\d+): \[Errno -[235]\] (?:Name or service not known|Temporary failure in name resolution|No address associated with hostname)|dial tcp: lookup (?P<host3>[\w.-]+)(?: on \S+)?: (?:no such host|server misbehaving|i/o timeout)|could not translate host name "(?P<host4>[^"]+)" to address|Unknown MySQL server host '(?P<host5>[^']+)'|UnknownHostException: (?P<host6>[\w.-]+)|Error -[23] connecting to (?P<host7>[\w.-]+):(?P<port2>\d+)|Name or service not known|Temporary failure in name resolution|No such host is known"#,
    },
    // Refused: libpq `connection to server at "db" (10.0.0.5), port 5432 failed: Connection
    // refused` / `Is the server running on host "db" (10.0.0.5) and accepting`, pgjdbc
    // `Connection to db:5432 refused`, MySQL `Can't connect to MySQL server on 'mysql:3306'
    // (111)`, redis-py `Error 111 connecting to redis:6379`, Go `dial tcp 10.0.0.5:5432:
    // connect: connection refused`, node `connect ECONNREFUSED 10.0.0.5:5432`, Kafka.
    Signature {
        id: "log-dependency-refused",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r#"connection to server at "(?P<host>[^"]+)" \([^)]*\), port (?P<port>\d+) failed|Is the server running on host "(?P<host2>[^"]+)"(?:.*?on port (?P<port2>\d+))?|Connection to (?P<host3>[\w.-]+):(?P<port3>\d+) refused|Can't connect to MySQL server on '(?P<host4>[^':]+)(?::(?P<port4>\d+))?'|Error 111 connecting to (?P<host5>[\w.-]+):(?P<port5>\d+)|dial tcp (?P<host6>[\w.-]+):(?P<port6>\d+): connect: connection refused|connect ECONNREFUSED (?P<host7>[\w.-]+):(?P<port7>\d+)|(?P<host8>[\w.-]+):(?P<port8>\d+): \[Errno 111\] Connection refused|Connection to node -?\d+ \((?P<host9>[\w.-]+)/[^)]*\) could not be established"#,
    },
    // Timeouts: `connect ETIMEDOUT 10.0.0.5:5432`, `dial tcp 10.0.0.5:5432: i/o timeout`.
    Signature {
        id: "log-dependency-timeout",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r"connect ETIMEDOUT (?P<host>[\w.-]+):(?P<port>\d+)|dial tcp (?P<host2>[\w.-]+):(?P<port2>\d+): (?:i/o timeout|connect: no route to host|connect: connection timed out)|ServerSelectionTimeoutError|MongoServerSelectionError|MongoNetworkError|Communications link failure",
    },
    Signature {
        id: "log-dependency-auth",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r#"password authentication failed for user "(?P<user>[^"]+)"|Access denied for user '(?P<user2>[^']+)'|MongoServerError: Authentication failed|Authentication failed\.|FATAL:\s+role "(?P<user3>[^"]+)" does not exist|FATAL:\s+database "(?P<db>[^"]+)" does not exist|NOAUTH Authentication required|WRONGPASS invalid username-password pair"#,
    },
    // ── Configuration ───────────────────────────────────────────────────────────────────
    // Go `unsupported protocol scheme ""`, python requests `Invalid URL 'prometheus:9090':
    // No scheme supplied`, node `ERR_INVALID_URL`, Go `first path segment in URL cannot
    // contain colon`.
    Signature {
        id: "log-config-url-scheme",
        cause: Cause::CrashConfig,
        pattern: r#"unsupported protocol scheme \\?"(?P<scheme>[^"\\]*)\\?"|Invalid URL '(?P<url>[^']*)': No schem[ae] supplied|ERR_INVALID_URL|parse \\?"(?P<url2>[^"\\]*)\\?": first path segment in URL cannot contain colon"#,
    },
    // Rails 5.2+: ``Missing `secret_key_base` for 'production' environment``.
    Signature {
        id: "log-config-rails-secret",
        cause: Cause::CrashConfig,
        pattern: r"Missing `secret_key_base` for '(?P<env>[^']+)' environment",
    },
    // Official postgres/mysql/mariadb images refuse to initialise without a password.
    Signature {
        id: "log-config-db-password",
        cause: Cause::CrashConfig,
        pattern: concat!(
            r"You must specify (?P<var>",
            env_name!(),
            r") to a non-empty value|Database is uninitialized and (?:superuser )?password (?:option )?is not specified|You need to specify one of (?:the following|(?P<var2>",
            env_name!(),
            r"))"
        ),
    },
    Signature {
        id: "log-config-env",
        cause: Cause::CrashConfig,
        pattern: concat!(
            r"KeyError: '(?P<var>",
            env_name!(),
            r")'|environment variable [\x22'`]?(?P<var2>",
            env_name!(),
            r")[\x22'`]? (?:is )?(?:not set|missing|required|must be set|empty|not found|undefined)|(?:missing|required|undefined) (?:required )?(?:environment|env) (?:variable|var)s?:? [\x22'`]?(?P<var3>",
            env_name!(),
            r")|(?P<var4>",
            env_name!(),
            r") (?:env(?:ironment)? var(?:iable)? )?(?:is not set|must be set|is required|is missing|is not defined in the environment)|required key (?P<var5>",
            env_name!(),
            r") missing value|Could not resolve placeholder '(?P<placeholder>[^']+)'"
        ),
    },
    Signature {
        id: "log-config-flag",
        cause: Cause::CrashConfig,
        pattern: r"flag provided but not defined: (?P<flag>\S+)|unknown (?:shorthand )?flag:? (?P<flag2>'?[^'\s]+'?)|unrecognized arguments: (?P<flag3>.+)|Unrecognized option: (?P<flag4>\S+)|Error: No such option: (?P<flag5>\S+)|invalid option -- '?(?P<flag6>[^'\s]+)",
    },
    // uvicorn `Attribute "app" not found in module "main"`, gunicorn `Failed to find
    // attribute 'app' in 'main'`.
    Signature {
        id: "log-config-app-attribute",
        cause: Cause::CrashConfig,
        pattern: r#"Attribute "(?P<attr>[^"]+)" not found in module "(?P<module>[^"]+)"|Failed to find attribute '(?P<attr2>[^']+)' in '(?P<module2>[^']+)'"#,
    },
    // postgres initdb on a volume root: `initdb: error: directory "/var/lib/postgresql/data"
    // exists but is not empty` / `It contains a lost+found directory`; mysqld
    // `--initialize specified but the data directory has files in it. Aborting.`
    Signature {
        id: "log-config-datadir-not-empty",
        cause: Cause::CrashConfig,
        pattern: r#"initdb: (?:error: )?directory "(?P<path>[^"]+)" exists but is not empty|--initialize specified but the data directory has files in it|It contains a lost\+found directory"#,
    },
    Signature {
        id: "log-config-database",
        cause: Cause::CrashConfig,
        pattern: r"database files are incompatible with server|NonExistentPath: Data directory (?P<path>\S+) not found|max virtual memory areas vm\.max_map_count \[\d+\] is too low|FATAL CONFIG FILE ERROR|Bad directive or wrong number of arguments|Can't handle RDB format version",
    },
    Signature {
        id: "log-config-validation",
        cause: Cause::CrashConfig,
        pattern: r"(?:pydantic_core\._pydantic_core\.ValidationError: |pydantic\.error_wrappers\.ValidationError: )?(?:(?P<count>\d+) )?validation errors? for (?P<model>\w+)|pydantic_core\._pydantic_core\.ValidationError|Failed to configure a DataSource: '(?P<attr>\w+)' attribute is not specified|Failed to bind properties under '(?P<prop>[^']+)'",
    },
    // nginx `[emerg] unknown directive "x" in /etc/nginx/conf.d/default.conf:3`, YAML/JSON
    // parse errors, explicit config errors.
    Signature {
        id: "log-config-file",
        cause: Cause::CrashConfig,
        pattern: r"\[emerg\] (?P<what>.+?) in (?P<file>/\S+?):(?P<line>\d+)|open (?P<file2>/?[\w./-]+\.(?:ya?ml|json|toml|conf|cfg|ini|properties|env)): no such file or directory|FileNotFoundError: \[Errno 2\] No such file or directory: '(?P<file3>[^']+\.(?:ya?ml|json|toml|conf|cfg|ini|properties|env))'|yaml: line \d+:|yaml: unmarshal errors|json: cannot unmarshal|Error parsing config|error parsing (?:config|configuration)|(?:could not|unable to|failed to) (?:parse|load|read) (?:the )?config(?:uration)?(?: file)?|invalid configuration|configuration error|config(?:uration)? file .* (?:not found|does not exist)",
    },
    // ── Catch-alls (after every signature that names the thing) ─────────────────────────
    Signature {
        id: "log-dependency-generic",
        cause: Cause::CrashDependencyUnreachable,
        pattern: r"could not connect to server|redis\.exceptions\.ConnectionError|Error connecting to Redis|connect: connection refused|ECONNREFUSED|Connection refused",
    },
    Signature {
        id: "log-permission",
        cause: Cause::CrashPermission,
        pattern: r"\[Errno 13\] Permission denied|Permission denied|EACCES|Read-only file system|EROFS|Operation not permitted",
    },
];

/// Lines worth quoting when nothing above matches: what a person reading the log would
/// point at first.
pub static SALIENT: &[Signature] = &[
    // Go: `panic: runtime error: invalid memory address or nil pointer dereference`.
    Signature { id: "salient-go-panic", cause: Cause::CrashUnknown, pattern: r"^(?:\S+ )?panic: |^fatal error: " },
    // Rust, both formats: `thread 'main' panicked at 'msg', src/main.rs:3:5` and
    // `thread 'main' panicked at src/main.rs:3:5:`.
    Signature { id: "salient-rust-panic", cause: Cause::CrashUnknown, pattern: r"thread '[^']*' panicked at" },
    // Java: the deepest `Caused by:` is the cause; Spring Boot's failure banner.
    Signature { id: "salient-java-cause", cause: Cause::CrashUnknown, pattern: r"^Caused by: " },
    Signature {
        id: "salient-exception",
        cause: Cause::CrashUnknown,
        pattern: r"^\w+(?:\.\w+)*(?:Error|Exception)\b|Exception in thread|Uncaught \w+|Unhandled (?:exception|rejection)",
    },
    // Spring Boot's failure analysis: the `Description:` paragraph after the banner.
    Signature {
        id: "salient-spring-description",
        cause: Cause::CrashUnknown,
        pattern: r"required a (?:bean|single bean) of type|Web server failed to start|could not be found\.$",
    },
    Signature { id: "salient-spring-failed", cause: Cause::CrashUnknown, pattern: r"APPLICATION FAILED TO START" },
    Signature {
        id: "salient-error",
        cause: Cause::CrashUnknown,
        pattern: r"\b(?:FATAL|CRITICAL|ERROR|Error|error|fatal|emerg)\b",
    },
];

super::matcher!(MATCHER, TABLE);
super::matcher!(SALIENT_MATCHER, SALIENT);

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(line: &str) -> Option<(&'static str, Cause)> {
        MATCHER.first(line).map(|m| (m.sig.id, m.sig.cause))
    }

    fn cause(line: &str) -> Option<Cause> {
        hit(line).map(|h| h.1)
    }

    /// `line` matches signature `id`, and capture `name` (folded across spellings) is `value`.
    #[track_caller]
    fn check(line: &str, id: &str, captures: &[(&str, &str)]) {
        let m = MATCHER.first(line).unwrap_or_else(|| panic!("no signature matches {line:?}"));
        assert_eq!(m.sig.id, id, "{line:?}");
        for (name, want) in captures {
            let got = (0..20)
                .map(|i| if i == 0 { name.to_string() } else { format!("{name}{}", i + 1) })
                .find_map(|n| m.caps.name(&n).map(|c| c.as_str().to_string()));
            assert_eq!(got.as_deref(), Some(*want), "capture {name} of {line:?}");
        }
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
    fn lock_files() {
        check(
            "2020-08-11T09:07:14.244+0000 I  STORAGE  [initandlisten] exception in initAndListen: DBPathInUse: Unable to lock the lock file: /data/db/mongod.lock (Resource temporarily unavailable). Another mongod instance is already running on the /data/db directory, terminating",
            "log-mongo-dbpathinuse",
            &[("path", "/data/db/mongod.lock")],
        );
        check(
            r#"FATAL:  lock file "postmaster.pid" already exists"#,
            "log-postgres-lock",
            &[("path", "postmaster.pid")],
        );
        check(
            r#"HINT:  Is another postmaster (PID 1) running in data directory "/var/lib/postgresql/data"?"#,
            "log-postgres-lock",
            &[("path", "/var/lib/postgresql/data")],
        );
        check(
            "2024-02-01T10:00:00.000000Z 1 [ERROR] [MY-012574] [InnoDB] Unable to lock ./ibdata1 error: 11",
            "log-mysql-lock",
            &[("path", "./ibdata1")],
        );
        check(
            "java.lang.IllegalStateException: failed to obtain node locks, tried [[/usr/share/elasticsearch/data]] with lock id [0]; maybe these locations are not writable",
            "log-lock-generic",
            &[("path", "/usr/share/elasticsearch/data")],
        );
        check(
            r#"ts=2024-01-01T00:00:00.000Z caller=main.go:1 level=error err="opening storage failed: lock DB directory: resource temporarily unavailable""#,
            "log-lock-generic",
            &[],
        );
    }

    #[test]
    fn image_builds() {
        // Seed S1.8 (001) and S2.0 (002).
        check("ERROR: failed to load Dockerfile: no such file or directory", "log-build-dockerfile-missing", &[]);
        check(
            "ERROR: failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory",
            "log-build-dockerfile-missing",
            &[("file", "Dockerfile")],
        );
        check(
            "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat /workspace/Dockerfile: no such file or directory",
            "log-build-dockerfile-missing",
            &[("file", "/workspace/Dockerfile")],
        );
        check(
            "error resolving dockerfile path: please provide a valid path to a Dockerfile within the build context with --dockerfile",
            "log-build-dockerfile-missing",
            &[],
        );
        check("ERROR: context too large", "log-build-context-too-large", &[]);
        check(
            "Cannot install -r requirements.txt and pytest==9.0.2 because these package versions have conflicting dependencies.",
            "log-build-dependency-conflict",
            &[("req", "-r requirements.txt and pytest==9.0.2")],
        );
        check("ERROR: ResolutionImpossible: for help visit https://pip.pypa.io", "log-build-dependency-conflict", &[]);
        check("npm ERR! code ERESOLVE", "log-build-dependency-conflict", &[]);
        check("npm error code ERESOLVE", "log-build-dependency-conflict", &[]);
        check(
            "error: failed to select a version for the requirement `tokio = \"^9\"`",
            "log-build-dependency-conflict",
            &[],
        );
        check("ERROR: failed to fetch flask-3.0.0.tar.gz: connection timeout", "log-build-network", &[]);
        check(
            "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/flask/",
            "log-build-network",
            &[],
        );
        check(
            "#7 15.31 WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ConnectTimeoutError(<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f3a>, 'Connection to pypi.org timed out. (connect timeout=15)')': /simple/fastapi/",
            "log-build-network",
            &[("host", "pypi.org")],
        );
        check(
            "pip._vendor.urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read timed out.",
            "log-build-network",
            &[("host", "files.pythonhosted.org")],
        );
        check(
            "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'",
            "log-build-network",
            &[("host", "deb.debian.org")],
        );
        check("npm ERR! code ETIMEDOUT", "log-build-network", &[]);
        check(
            "WARNING: fetching https://dl-cdn.alpinelinux.org/alpine/v3.19/main: temporary error (try again later)",
            "log-build-network",
            &[("host", "dl-cdn.alpinelinux.org")],
        );
        check(
            r#"go: github.com/x/y@v1.2.3: Get "https://proxy.golang.org/github.com/x/y/@v/v1.2.3.mod": dial tcp 142.250.74.17:443: i/o timeout"#,
            "log-build-network",
            &[("host", "proxy.golang.org")],
        );
        check(
            "ERROR: Could not find a version that satisfies the requirement flask==9.9.9 (from versions: 0.1, 3.0.0)",
            "log-build-package-not-found",
            &[("req", "flask==9.9.9")],
        );
        check(
            "E: Unable to locate package libgl1-mesa-glx",
            "log-build-package-not-found",
            &[("pkg", "libgl1-mesa-glx")],
        );
    }

    #[test]
    fn starting_the_process() {
        // Pasted 050: the escaped event form.
        check(
            r#"Error: failed to start container "catalogue": Error response from daemon: OCI runtime create failed: container_linux.go:348: starting container process caused "exec: \"-port=80\": executable file not found in $PATH": unknown"#,
            "log-args-as-command",
            &[("arg", "-port=80")],
        );
        // Pasted 051.
        check(
            r#"Error: failed to create containerd task: OCI runtime create failed: container_linux.go:345: starting container process caused "exec: \"sh\": executable file not found in $PATH": unknown"#,
            "log-exec-not-found",
            &[("cmd", "sh")],
        );
        check(
            r#"failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "uvicorn": executable file not found in $PATH: unknown"#,
            "log-exec-not-found",
            &[("cmd", "uvicorn")],
        );
        check(
            "executable file 'gunicorn' not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found",
            "log-exec-not-found",
            &[("cmd", "gunicorn")],
        );
        check("exec /app/server: no such file or directory", "log-exec-not-found", &[("cmd", "/app/server")]);
        check("/bin/sh: 1: ./start.sh: not found", "log-exec-not-found", &[("cmd", "./start.sh")]);
        check("/docker-entrypoint.sh: line 8: exec: gunicorn: not found", "log-exec-not-found", &[]);
        check("/usr/bin/env: 'python': No such file or directory", "log-exec-not-found", &[("cmd", "python")]);
        check(
            "python: can't open file '/app/main.py': [Errno 2] No such file or directory",
            "log-exec-not-found",
            &[("cmd", "/app/main.py")],
        );
        check(
            r#"exec: "/app/entrypoint.sh": permission denied: unknown"#,
            "log-exec-permission",
            &[("path", "/app/entrypoint.sh")],
        );
        check("exec /lib/app: exec format error", "log-exec-format", &[]);
    }

    #[test]
    fn missing_dependencies() {
        check("ModuleNotFoundError: No module named 'cv2'", "log-python-module", &[("module", "cv2")]);
        check(
            "ModuleNotFoundError: No module named 'dapr.clients'",
            "log-python-module",
            &[("module", "dapr.clients")],
        );
        check("ImportError: No module named yaml", "log-python-module", &[("module", "yaml")]);
        check(
            "ImportError: cannot import name 'soft_unicode' from 'markupsafe' (/usr/local/lib/python3.11/site-packages/markupsafe/__init__.py)",
            "log-python-module",
            &[("module", "markupsafe"), ("name", "soft_unicode")],
        );
        check(
            r#"ERROR:    Error loading ASGI app. Could not import module "main"."#,
            "log-asgi-import",
            &[("module", "main")],
        );
        check(
            "python: error while loading shared libraries: libpython3.11.so.1.0: cannot open shared object file: No such file or directory",
            "log-shared-library",
            &[("lib", "libpython3.11.so.1.0")],
        );
        check(
            "ImportError: libGL.so.1: cannot open shared object file: No such file or directory",
            "log-shared-library",
            &[("lib", "libGL.so.1")],
        );
        check("Error: Cannot find module '/app/server.js'", "log-node-module", &[("module", "/app/server.js")]);
        check(
            "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'express' imported from /app/index.js",
            "log-node-module",
            &[("module", "express")],
        );
        check(
            "Exception in thread \"main\" java.lang.NoClassDefFoundError: org/slf4j/LoggerFactory",
            "log-java-class",
            &[("class", "org/slf4j/LoggerFactory")],
        );
        check("Error: Could not find or load main class com.acme.App", "log-java-class", &[("class", "com.acme.App")]);
        check("Error: Unable to access jarfile /app/app.jar", "log-java-class", &[("module", "/app/app.jar")]);
        check(
            "Exception in thread \"main\" java.lang.UnsupportedClassVersionError: com/acme/App has been compiled by a more recent version of the Java Runtime (class file version 65.0), this version of the Java Runtime only recognizes class file versions up to 55.0",
            "log-java-version",
            &[("class", "com/acme/App"), ("have", "65.0"), ("max", "55.0")],
        );
        check(
            "/usr/local/bundle/gems/bootsnap/lib/bootsnap.rb:3:in `require': cannot load such file -- pg (LoadError)",
            "log-ruby-load",
            &[("module", "pg")],
        );
        check(
            "PHP Warning:  require(): Failed opening required '/var/www/vendor/autoload.php' (include_path='.:/usr/local/lib/php')",
            "log-ruby-load",
            &[("module", "/var/www/vendor/autoload.php")],
        );
    }

    #[test]
    fn memory_ports_and_permissions() {
        check("java.lang.OutOfMemoryError: Java heap space", "log-oom", &[]);
        check("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "log-oom", &[]);
        check(
            "2024/01/01 10:00:00 [emerg] 1#1: bind() to 0.0.0.0:80 failed (13: Permission denied)",
            "log-bind-privileged-port",
            &[("addr", "0.0.0.0:80")],
        );
        check("listen tcp :80: bind: permission denied", "log-bind-privileged-port", &[("addr", ":80")]);
        check(
            "2024/01/01 10:00:00 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)",
            "log-port-in-use",
            &[("addr", "0.0.0.0:80")],
        );
        check("listen tcp :8080: bind: address already in use", "log-port-in-use", &[("addr", ":8080")]);
        check("Error: listen EADDRINUSE: address already in use :::3000", "log-port-in-use", &[("addr", ":::3000")]);
        check(
            "ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use",
            "log-port-in-use",
            &[("addr", "'0.0.0.0', 8000")],
        );
        check("Web server failed to start. Port 8080 was already in use.", "log-port-in-use", &[("port", "8080")]);
        check(
            "1:M 01 Jan 2024 10:00:00.000 # Warning: Could not create server TCP listening socket *:6379: bind: Address already in use",
            "log-port-in-use",
            &[("addr", "*:6379")],
        );
        // Seed S2.2 and pasted 013, 063.
        check(
            "/usr/local/bin/python3.13: can't open file '/root/.local/bin/uvicorn': [Errno 13] Permission denied",
            "log-permission-path",
            &[("path", "/root/.local/bin/uvicorn")],
        );
        check(
            "**mkdir: cannot create directory '/bitnami/mariadb/data': Permission denied**",
            "log-permission-path",
            &[("path", "/bitnami/mariadb/data")],
        );
        check(
            "Error:got error when changing ownership of /var/lib/pgsql Error: Operation not permitted",
            "log-permission-path",
            &[("path", "/var/lib/pgsql")],
        );
        check(
            "PermissionError: [Errno 13] Permission denied: '/data/cache'",
            "log-permission-path",
            &[("path", "/data/cache")],
        );
        check(
            "Error: EACCES: permission denied, open '/app/logs/app.log'",
            "log-permission-path",
            &[("path", "/app/logs/app.log")],
        );
        check(
            "2024/01/01 10:00:00 open /data/badger/MANIFEST: permission denied",
            "log-permission-path",
            &[("path", "/data/badger/MANIFEST")],
        );
        check(
            r#"2024/01/01 10:00:00 [emerg] 1#1: mkdir() "/var/cache/nginx/client_temp" failed (13: Permission denied)"#,
            "log-permission-path",
            &[("path", "/var/cache/nginx/client_temp")],
        );
        check(
            r#"FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership"#,
            "log-permission-path",
            &[("path", "/var/lib/postgresql/data")],
        );
        check("OSError: [Errno 30] Read-only file system: '/app/tmp'", "log-permission-path", &[("path", "/app/tmp")]);
        check("touch: /var/run/app.pid: Read-only file system", "log-permission-path", &[("path", "/var/run/app.pid")]);
        check("java.nio.file.AccessDeniedException: /data/store", "log-permission-path", &[("path", "/data/store")]);
        check("some tool: Permission denied", "log-permission", &[]);
    }

    #[test]
    fn dependencies() {
        // Pasted 057.
        check(
            r#"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name "postgres" to address: Name or service not known."#,
            "log-dependency-dns",
            &[("host", "postgres")],
        );
        check(
            "pymongo.errors.ServerSelectionTimeoutError: mongodb:27017: [Errno -2] Name or service not known",
            "log-dependency-dns",
            &[("host", "mongodb"), ("port", "27017")],
        );
        check("Error: getaddrinfo ENOTFOUND redis-master", "log-dependency-dns", &[("host", "redis-master")]);
        check(
            "failed to connect to database: dial tcp: lookup postgres.data.svc.cluster.local on 10.96.0.10:53: no such host",
            "log-dependency-dns",
            &[("host", "postgres.data.svc.cluster.local")],
        );
        check(
            "java.net.UnknownHostException: kafka-broker: Name or service not known",
            "log-dependency-dns",
            &[("host", "kafka-broker")],
        );
        check("Unknown MySQL server host 'mysql' (-2)", "log-dependency-dns", &[("host", "mysql")]);
        check(
            r#"2024/01/01 10:00:00 [emerg] 1#1: host not found in upstream "backend:8080" in /etc/nginx/conf.d/default.conf:12"#,
            "log-nginx-upstream",
            &[("host", "backend:8080")],
        );
        check(
            r#"psycopg2.OperationalError: connection to server at "db" (10.96.4.12), port 5432 failed: Connection refused"#,
            "log-dependency-refused",
            &[("host", "db"), ("port", "5432")],
        );
        check(
            r#"	Is the server running on host "db" (10.96.4.12) and accepting TCP/IP connections on port 5432?"#,
            "log-dependency-refused",
            &[("host", "db"), ("port", "5432")],
        );
        check(
            "org.postgresql.util.PSQLException: Connection to localhost:5432 refused. Check that the hostname and port are correct",
            "log-dependency-refused",
            &[("host", "localhost"), ("port", "5432")],
        );
        check(
            "ERROR 2002 (HY000): Can't connect to MySQL server on 'mysql:3306' (111)",
            "log-dependency-refused",
            &[("host", "mysql"), ("port", "3306")],
        );
        check(
            "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
            "log-dependency-refused",
            &[("host", "redis"), ("port", "6379")],
        );
        check(
            "panic: dial tcp 10.96.0.15:5432: connect: connection refused",
            "log-dependency-refused",
            &[("host", "10.96.0.15"), ("port", "5432")],
        );
        check(
            "MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017",
            "log-dependency-refused",
            &[("host", "127.0.0.1"), ("port", "27017")],
        );
        check(
            "[Producer clientId=x] Connection to node -1 (kafka/10.96.3.3:9092) could not be established. Broker may not be available.",
            "log-dependency-refused",
            &[("host", "kafka")],
        );
        check("Error: connect ETIMEDOUT 10.0.12.7:5432", "log-dependency-timeout", &[("host", "10.0.12.7")]);
        check(r#"FATAL:  password authentication failed for user "app""#, "log-dependency-auth", &[("user", "app")]);
        check(
            "ERROR 1045 (28000): Access denied for user 'root'@'10.244.0.5' (using password: YES)",
            "log-dependency-auth",
            &[("user", "root")],
        );
        check("could not connect to server: Connection refused", "log-dependency-generic", &[]);
    }

    #[test]
    fn configuration() {
        check(
            r#"logger=tsdb.prometheus level=error msg="Post \"prometheus:9090/api/v1/query\": unsupported protocol scheme \"\"""#,
            "log-config-url-scheme",
            &[("scheme", "")],
        );
        check(
            "requests.exceptions.MissingSchema: Invalid URL 'api:8080/v1': No scheme supplied. Perhaps you meant https://api:8080/v1?",
            "log-config-url-scheme",
            &[("url", "api:8080/v1")],
        );
        // Pasted 068.
        check(
            "Missing `secret_key_base` for 'prod_k8s' environment (ArgumentError)",
            "log-config-rails-secret",
            &[("env", "prod_k8s")],
        );
        check(
            "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
            "log-config-db-password",
            &[("var", "POSTGRES_PASSWORD")],
        );
        check(
            "2024-01-01 10:00:00+00:00 [ERROR] [Entrypoint]: Database is uninitialized and password option is not specified",
            "log-config-db-password",
            &[],
        );
        check(
            "You need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD",
            "log-config-db-password",
            &[("var", "MARIADB_ROOT_PASSWORD")],
        );
        check("KeyError: 'DATABASE_URL'", "log-config-env", &[("var", "DATABASE_URL")]);
        check("Error: environment variable JWT_SECRET is not set", "log-config-env", &[("var", "JWT_SECRET")]);
        check("panic: required key DATABASE_URL missing value", "log-config-env", &[("var", "DATABASE_URL")]);
        check(
            "thread 'main' panicked at 'DATABASE_URL must be set', src/main.rs:12:45",
            "log-config-env",
            &[("var", "DATABASE_URL")],
        );
        check(
            "java.lang.IllegalArgumentException: Could not resolve placeholder 'DB_HOST' in value \"${DB_HOST}\"",
            "log-config-env",
            &[("placeholder", "DB_HOST")],
        );
        // Lower-case words are not environment variables.
        assert_ne!(hit("KeyError: 'name'").map(|h| h.0), Some("log-config-env"));
        assert_eq!(hit("the password is required"), None);
        check("flag provided but not defined: -listen", "log-config-flag", &[("flag", "-listen")]);
        check("Error: unknown flag: --metrics-port", "log-config-flag", &[("flag", "--metrics-port")]);
        check("main.py: error: unrecognized arguments: --workers 4", "log-config-flag", &[("flag", "--workers 4")]);
        check(
            r#"ERROR:    Error loading ASGI app. Attribute "app" not found in module "main"."#,
            "log-config-app-attribute",
            &[("attr", "app"), ("module", "main")],
        );
        check(
            r#"initdb: error: directory "/var/lib/postgresql/data" exists but is not empty"#,
            "log-config-datadir-not-empty",
            &[("path", "/var/lib/postgresql/data")],
        );
        check(
            "ERROR: [1] bootstrap checks failed. max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]",
            "log-config-database",
            &[],
        );
        check(
            "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings",
            "log-config-validation",
            &[("model", "Settings")],
        );
        check(
            r#"2024/01/01 10:00:00 [emerg] 1#1: unknown directive "proxy_passs" in /etc/nginx/conf.d/default.conf:14"#,
            "log-config-file",
            &[("file", "/etc/nginx/conf.d/default.conf"), ("line", "14")],
        );
        check("error: yaml: line 7: mapping values are not allowed in this context", "log-config-file", &[]);
        check(
            "2026/11/20 09:58:40 open /etc/app/config.yaml: no such file or directory",
            "log-config-file",
            &[("file", "/etc/app/config.yaml")],
        );
        check(
            "FileNotFoundError: [Errno 2] No such file or directory: '/app/settings.toml'",
            "log-config-file",
            &[("file", "/app/settings.toml")],
        );
        check(
            "Failed to bind properties under 'spring.datasource.hikari.maximum-pool-size' to int:",
            "log-config-validation",
            &[("prop", "spring.datasource.hikari.maximum-pool-size")],
        );
    }

    #[test]
    fn salient_lines() {
        let id = |s: &str| SALIENT_MATCHER.first(s).map(|m| m.sig.id);
        assert_eq!(
            id("panic: runtime error: invalid memory address or nil pointer dereference"),
            Some("salient-go-panic")
        );
        assert_eq!(id("thread 'main' panicked at src/main.rs:3:5:"), Some("salient-rust-panic"));
        assert_eq!(id("Caused by: java.lang.IllegalStateException: boom"), Some("salient-java-cause"));
        assert_eq!(id("ZeroDivisionError: division by zero"), Some("salient-exception"));
        assert_eq!(id("APPLICATION FAILED TO START"), Some("salient-spring-failed"));
        assert_eq!(
            id(
                "Parameter 0 of constructor in com.acme.Api required a bean of type 'com.acme.Repo' that could not be found."
            ),
            Some("salient-spring-description")
        );
        assert_eq!(id("level=error msg=\"exiting\""), Some("salient-error"));
        assert_eq!(id("INFO starting"), None);
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
        // The named dependency wins over the generic refusal on an earlier line.
        let lines: Vec<String> = [
            "could not connect to server: Connection refused",
            "\tIs the server running on host \"db\" (10.96.4.12) and accepting",
            "\tTCP/IP connections on port 5432?",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (m, _) = MATCHER.first_in_lines(&lines).unwrap();
        assert_eq!((m.sig.id, m.get("host2")), ("log-dependency-refused", "db"));
    }

    /// Every pasted incident whose label names a crash cause: does the log classifier name
    /// one of the labelled causes from the pasted text alone? Cases whose evidence is a
    /// `kubectl describe` status (OOMKilled) or probe events are classified from status and
    /// events in `facts`, not from logs, so they count as misses here.
    #[test]
    fn pasted_corpus_accuracy() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/pasted");
        let root = if root.is_dir() { root } else { std::path::PathBuf::from("/work/shared/corpus/pasted") };
        let Ok(dirs) = std::fs::read_dir(&root) else {
            eprintln!("skipped: {} is absent", root.display());
            return;
        };
        let mut dirs: Vec<_> = dirs.flatten().map(|d| d.path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        let (mut total, mut matched) = (0, 0);
        for d in dirs {
            let (Ok(label), Ok(evidence)) =
                (std::fs::read_to_string(d.join("label.yaml")), std::fs::read_to_string(d.join("evidence.txt")))
            else {
                continue;
            };
            let causes: Vec<String> = label
                .lines()
                .find_map(|l| l.strip_prefix("causes:"))
                .map(|c| c.trim().trim_matches(['[', ']']).split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default();
            if !causes.iter().any(|c| c.starts_with("crash.")) {
                continue;
            }
            total += 1;
            let lines: Vec<String> = evidence.lines().map(str::to_string).collect();
            let got = MATCHER.first_in_lines(&lines).map(|(m, _)| (m.sig.id, m.sig.cause.as_str()));
            let ok = got.is_some_and(|(_, c)| causes.iter().any(|w| w == c));
            matched += usize::from(ok);
            let name = d.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            eprintln!("{} {name}: want {causes:?}, got {got:?}", if ok { "ok  " } else { "MISS" });
        }
        eprintln!("pasted crash cases: {matched}/{total} classified from their text");
        if total > 0 {
            // 006 (describe: OOMKilled status) and 053 (probe events) are not log evidence.
            assert!(matched * 10 >= total * 8, "accuracy dropped: {matched}/{total}");
        }
    }
}
