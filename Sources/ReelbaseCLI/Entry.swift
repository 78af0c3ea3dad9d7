import ArgumentParser
import Reelbase

@main
extension ReelbaseCommand {}
