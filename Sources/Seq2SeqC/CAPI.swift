// The C API of seq2seq.h (Sources/CSeq2Seq/include) over the Seq2Seq library's Translator: opaque handles, C strings
// owned by the results, and a per-thread last error. No Swift type crosses the boundary.
import Foundation
import CSeq2Seq
import Seq2Seq

/// What a `s2s_results *` points to: the translations and their texts as C strings.
final class ResultsBox {
    let translations: [[TranslationResult]]
    let texts: [[UnsafeMutablePointer<CChar>]]

    init(_ translations: [[TranslationResult]]) {
        self.translations = translations
        texts = translations.map { $0.map { strdup($0.text)! } }
    }

    deinit { for row in texts { for text in row { free(text) } } }

    func translation(_ sentence: Int32, _ rank: Int32) -> (TranslationResult, UnsafeMutablePointer<CChar>)? {
        let s = Int(sentence), r = Int(rank)
        guard translations.indices.contains(s), translations[s].indices.contains(r) else {
            LastError.set("sentence \(sentence), rank \(rank) is outside the results (\(translations.count) sentences)")
            return nil
        }
        return (translations[s][r], texts[s][r])
    }
}

/// The calling thread's last error message (a C string it owns until the next error or clear).
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    static func set(_ message: String) {
        free(pthread_getspecific(key))
        pthread_setspecific(key, strdup(message))
    }

    static func clear() {
        free(pthread_getspecific(key))
        pthread_setspecific(key, nil)
    }

    static var current: UnsafePointer<CChar>? {
        pthread_getspecific(key).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
    }
}

@_cdecl("s2s_open")
public func s2s_open(_ paths: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int32,
                     _ options: UnsafePointer<s2s_options>?) -> OpaquePointer? {
    LastError.clear()
    guard let paths, count >= 1 else {
        LastError.set("s2s_open: give at least one model folder")
        return nil
    }
    var folders: [URL] = []
    for i in 0..<Int(count) {
        guard let path = paths[i] else {
            LastError.set("s2s_open: model path \(i) is NULL")
            return nil
        }
        folders.append(URL(fileURLWithPath: String(cString: path)))
    }
    var settings = TranslatorOptions()
    if let o = options?.pointee {
        settings.beam = Int(o.beam)
        settings.nBest = Int(o.n_best)
        settings.lengthPenalty = o.length_penalty
        settings.precision = o.int8 != 0 ? .int8 : .float32
        settings.threads = Int(o.threads)
        settings.shortlist = o.shortlist != 0
        settings.checkpoint = o.last_checkpoint != 0 ? .last : .best
    }
    do {
        let translator = try Translator(models: folders, options: settings)
        return OpaquePointer(Unmanaged.passRetained(translator).toOpaque())
    } catch {
        LastError.set("\(error)")
        return nil
    }
}

@_cdecl("s2s_translate")
public func s2s_translate(_ handle: OpaquePointer?, _ sentences: UnsafePointer<UnsafePointer<CChar>?>?,
                          _ count: Int32) -> OpaquePointer? {
    LastError.clear()
    guard let handle else {
        LastError.set("s2s_translate: the translator is NULL")
        return nil
    }
    guard count >= 0, count == 0 || sentences != nil else {
        LastError.set("s2s_translate: \(count) sentences and no array")
        return nil
    }
    var lines: [String] = []
    for i in 0..<Int(count) {
        guard let sentence = sentences![i] else {
            LastError.set("s2s_translate: sentence \(i) is NULL")
            return nil
        }
        // Ill-formed UTF-8 becomes U+FFFD, as `translate --on-invalid replace` reads it.
        lines.append(String(decoding: UnsafeRawBufferPointer(start: sentence, count: strlen(sentence)), as: UTF8.self))
    }
    let translator = Unmanaged<Translator>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    do {
        let results = try translator.translateSync(lines)
        return OpaquePointer(Unmanaged.passRetained(ResultsBox(results)).toOpaque())
    } catch {
        LastError.set("\(error)")
        return nil
    }
}

private func box(_ results: OpaquePointer?) -> ResultsBox? {
    guard let results else {
        LastError.set("the results are NULL")
        return nil
    }
    return Unmanaged<ResultsBox>.fromOpaque(UnsafeRawPointer(results)).takeUnretainedValue()
}

@_cdecl("s2s_results_count")
public func s2s_results_count(_ results: OpaquePointer?) -> Int32 {
    guard let box = box(results) else { return -1 }
    return Int32(box.translations.count)
}

@_cdecl("s2s_results_n_best")
public func s2s_results_n_best(_ results: OpaquePointer?, _ sentence: Int32) -> Int32 {
    guard let box = box(results) else { return -1 }
    guard box.translations.indices.contains(Int(sentence)) else {
        LastError.set("sentence \(sentence) is outside the results (\(box.translations.count) sentences)")
        return -1
    }
    return Int32(box.translations[Int(sentence)].count)
}

@_cdecl("s2s_results_text")
public func s2s_results_text(_ results: OpaquePointer?, _ sentence: Int32, _ rank: Int32) -> UnsafePointer<CChar>? {
    box(results)?.translation(sentence, rank).map { UnsafePointer($0.1) }
}

@_cdecl("s2s_results_score")
public func s2s_results_score(_ results: OpaquePointer?, _ sentence: Int32, _ rank: Int32) -> Double {
    box(results)?.translation(sentence, rank)?.0.score ?? .nan
}

@_cdecl("s2s_results_log_prob")
public func s2s_results_log_prob(_ results: OpaquePointer?, _ sentence: Int32, _ rank: Int32) -> Double {
    box(results)?.translation(sentence, rank)?.0.logProb ?? .nan
}

@_cdecl("s2s_results_free")
public func s2s_results_free(_ results: OpaquePointer?) {
    guard let results else { return }
    Unmanaged<ResultsBox>.fromOpaque(UnsafeRawPointer(results)).release()
}

@_cdecl("s2s_close")
public func s2s_close(_ handle: OpaquePointer?) {
    guard let handle else { return }
    let translator = Unmanaged<Translator>.fromOpaque(UnsafeRawPointer(handle)).takeRetainedValue()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        await translator.shutdown()
        done.signal()
    }
    done.wait()
}

@_cdecl("s2s_last_error")
public func s2s_last_error() -> UnsafePointer<CChar>? {
    LastError.current
}
