/// Namespaces in scope: the `xmlns` declarations of the open elements, and the
/// namespace each element and attribute name resolves to.
extension XMLScanner {
    /// The namespaces a Green Button feed is read in; every other URI is `other`.
    enum Namespace: UInt8 {
        /// No namespace (an unprefixed name without a default namespace in scope).
        case none
        /// `http://www.w3.org/2005/Atom`.
        case atom
        /// `http://naesb.org/espi`.
        case espi
        case other
    }

    static let atomURI: [UInt8] = Array("http://www.w3.org/2005/Atom".utf8)
    static let espiURI: [UInt8] = Array("http://naesb.org/espi".utf8)

    /// A prefix bound to a namespace by an `xmlns` or `xmlns:p` attribute.
    struct Binding {
        /// Empty for the default namespace.
        var prefix: Range<Int>
        var namespace: Namespace
    }

    /// Takes the `xmlns` and `xmlns:p` attributes of the last start tag into scope.
    mutating func declareNamespaces() throws(Failure) {
        for attribute in attributes {
            let isDefault = !attribute.isPrefixed && isWord("xmlns", attribute.name)
            let isPrefix =
                attribute.isPrefixed && isWord("xmlns", attribute.name.lowerBound..<attribute.localName.lowerBound - 1)
            guard isDefault || isPrefix else { continue }
            let uri = XMLScanner.decode(
                attribute.value, hasReferences: attribute.hasReferences, in: body, attribute: true)
            let namespace: Namespace =
                uri.isEmpty ? .none : uri == Self.atomURI ? .atom : uri == Self.espiURI ? .espi : .other
            if isPrefix {
                if isWord("xmlns", attribute.localName) {
                    throw Failure(offset: attribute.name.lowerBound, message: "the prefix xmlns cannot be declared")
                }
                if uri.isEmpty {
                    throw Failure(
                        offset: attribute.name.lowerBound,
                        message: "the prefix \(string(attribute.localName)) is declared with an empty namespace name")
                }
            }
            bindings.append(Binding(prefix: isDefault ? 0..<0 : attribute.localName, namespace: namespace))
        }
    }

    /// The namespace of an element name and where its local part starts; checks the
    /// prefixes of the attributes too.
    func resolve(_ name: Range<Int>, tagStart: Int) throws(Failure) -> (Namespace, Int) {
        for attribute in attributes where attribute.isPrefixed {
            let prefix = attribute.name.lowerBound..<attribute.localName.lowerBound - 1
            if !isWord("xmlns", prefix) { _ = try namespace(ofPrefix: prefix, at: attribute.name.lowerBound) }
        }
        guard let colon = firstColon(in: name) else {
            for binding in bindings.reversed() where binding.prefix.isEmpty {
                return (binding.namespace, name.lowerBound)
            }
            return (.none, name.lowerBound)
        }
        return (try namespace(ofPrefix: name.lowerBound..<colon, at: tagStart), colon + 1)
    }

    private func namespace(ofPrefix prefix: Range<Int>, at offset: Int) throws(Failure) -> Namespace {
        for binding in bindings.reversed() where !binding.prefix.isEmpty && equal(binding.prefix, prefix) {
            return binding.namespace
        }
        if isWord("xml", prefix) { return .other }
        throw Failure(
            offset: offset, message: "the prefix \(string(prefix)) is not declared (xmlns:\(string(prefix))=\"...\")")
    }
}
