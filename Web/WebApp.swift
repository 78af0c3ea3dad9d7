import Foundation

/// The web client's files (`Web/app`), copied by SwiftPM into this target's resource bundle beside the executable.
public enum WebApp {
    /// The folder holding `index.html`, or `nil` when the bundle was not shipped with the executable.
    public static var bundledDirectory: String? {
        Bundle.module.url(forResource: "app", withExtension: nil)?.path
    }
}
