// Translates the lines of stdin with the model folder given as the first argument, one line out per
// line in, through the Seq2Seq library (beam 5, the best translation of each line).
import Foundation
import Seq2Seq

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: translate MODEL_FOLDER < input\n".utf8))
    exit(2)
}
var lines: [String] = []
while let line = readLine(strippingNewline: true) { lines.append(line) }
do {
    let translator = try Translator(model: URL(fileURLWithPath: arguments[1]), options: .init(beam: 5))
    for result in try translator.translateSync(lines) { print(result.first?.text ?? "") }
} catch {
    FileHandle.standardError.write(Data("translate: \(error)\n".utf8))
    exit(1)
}
