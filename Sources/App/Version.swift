/// The server's version, reported by `/api/status` and `--version`.
public enum StreamSocialVersion {
    public static let current = "0.1.0"
}
