import Foundation

#if FUZZING
/// libFuzzer's driver, from the toolchain's libclang_rt.fuzzer (linked by
/// `-sanitize=fuzzer`). SwiftPM turns `@main` into the process's `main`, so libFuzzer's
/// own `main` is never linked and this one hands control to the driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// One input, for libFuzzer (built by scripts/fuzz.sh with `-sanitize=fuzzer -DFUZZING`);
/// `STREAMSOCIAL_FUZZ_TARGET` names the target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzEntry.selected.run(bytes)
    return 0
}

@main
enum FuzzEntry {
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["STREAMSOCIAL_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("set STREAMSOCIAL_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))")
        }
        return target
    }()

    static func main() {
        _ = selected
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
    }
}
#else
/// Without libFuzzer: replays a corpus folder (`Tests/fuzz/corpus/<target>/...`) through
/// every target, so the inputs fuzzing found stay tested in every build.
@main
enum FuzzEntry {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let root = arguments.first else {
            FileHandle.standardError.write(Data("usage: streamsocial-fuzz CORPUS_DIR (one folder per target: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n".utf8))
            exit(2)
        }
        var replayed = 0
        for target in FuzzTarget.allCases {
            let folder = URL(fileURLWithPath: root).appendingPathComponent(target.rawValue)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names.sorted() {
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { continue }
                target.run(Array(data))
                replayed += 1
            }
        }
        FileHandle.standardOutput.write(Data("replayed \(replayed) inputs through \(FuzzTarget.allCases.count) fuzz targets: no crash\n".utf8))
    }
}
#endif
