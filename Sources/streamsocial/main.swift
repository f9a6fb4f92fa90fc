// The `serve` command arrives with the HTTP server; until then the executable only
// says so.
import Foundation

FileHandle.standardError.write(Data("streamsocial: the serve command is not built yet\n".utf8))
exit(1)
